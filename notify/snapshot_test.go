package notify

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"whereabouts/geo"
)

func TestSubscribeThenSnapshotDropsWhatTheSnapshotAlreadyShows(t *testing.T) {
	h := newHub(HubConfig{})
	publish(t, h, feature(1, 1, 0, 0)) // the hub is behind the database for person 1
	other := subscribe(t, h, newFakeSource(), geo.Filter{}, Scope{})
	drain(t, other)

	src := newFakeSource(feature(1, 3, 0, 0), feature(2, 1, 0, 0))
	src.during = func() { // events that race with the snapshot read
		publish(t, h, feature(1, 2, 0, 0)) // older than the snapshot
		publish(t, h, feature(2, 1, 0, 0)) // the snapshot's own version
		publish(t, h, feature(3, 1, 0, 0)) // not in the snapshot: newer
	}
	s := subscribe(t, h, src, geo.Filter{}, Scope{})
	equal(t, "after install", drain(t, s), []string{"snapshot[1@3 2@1]", "update 3@1"})
	if len(s.floors) != 1 {
		t.Errorf("floors %v, want only person 1 (the hub had not reached the snapshot's version)", s.floors)
	}

	publish(t, h, feature(1, 3, 0, 0)) // the hub catches up with the snapshot
	equal(t, "catching up", drain(t, s), nil)
	publish(t, h, feature(1, 4, 0, 0))
	equal(t, "newer", drain(t, s), []string{"update 1@4"})
	if len(s.floors) != 0 {
		t.Errorf("floors %v, want none once passed", s.floors)
	}
	equal(t, "a subscriber without a snapshot in flight", drain(t, other),
		[]string{"update 1@2", "update 2@1", "update 3@1", "update 1@3", "update 1@4"}) // every move: it keeps up
}

func TestSnapshotPersonMovingOutIsSentEvenIfTheHubNeverSawThem(t *testing.T) {
	h := newHub(HubConfig{}) // not yet seeded by the listener
	src := newFakeSource(feature(1, 3, 5, 5))
	s := subscribe(t, h, src, geo.Filter{BBox: bbox(0, 0, 10, 10)}, Scope{})
	publish(t, h, feature(1, 4, 50, 50))
	equal(t, "messages", drain(t, s), []string{"snapshot[1@3]", "update 1@4"})
}

func TestNothingIsDrainedBeforeTheSnapshot(t *testing.T) {
	h := newHub(HubConfig{})
	src := newFakeSource(feature(1, 1, 0, 0))
	var s *Subscriber
	src.during = func() {
		h.mu.Lock()
		for sub := range h.subs {
			s = sub
		}
		h.mu.Unlock()
		publish(t, h, feature(2, 1, 0, 0))
		if msgs := s.Next(nil); len(msgs) != 0 {
			t.Errorf("drained %q before the snapshot", summarize(t, msgs))
		}
	}
	subscribe(t, h, src, geo.Filter{}, Scope{})
	equal(t, "messages", drain(t, s), []string{"snapshot[1@1]", "update 2@1"})
}

func TestNewFilterReplacesQueuedEventsWithAFreshSnapshot(t *testing.T) {
	h := newHub(HubConfig{})
	src := newFakeSource(feature(1, 1, 5, 5), feature(2, 1, 50, 50))
	s := subscribe(t, h, src, geo.Filter{BBox: bbox(0, 0, 10, 10)}, Scope{})
	publish(t, h, feature(1, 1, 5, 5))
	publish(t, h, feature(2, 1, 50, 50))
	publish(t, h, feature(1, 2, 6, 6)) // queued for the old filter, not drained
	src.set(feature(1, 2, 6, 6))
	if err := s.SetFilter(context.Background(), src, geo.Filter{BBox: bbox(40, 40, 60, 60)}); err != nil {
		t.Fatal(err)
	}
	equal(t, "after the filter change", drain(t, s), []string{"snapshot[2@1]"})
	publish(t, h, feature(1, 3, 7, 7))
	publish(t, h, feature(2, 2, 51, 51))
	equal(t, "later", drain(t, s), []string{"update 2@2"})
}

func TestSnapshotFailureClosesTheSubscriber(t *testing.T) {
	h := newHub(HubConfig{})
	src := newFakeSource()
	src.err = errors.New("database down")
	if _, err := h.Subscribe(context.Background(), src, Subscription{}); err == nil {
		t.Fatal("Subscribe succeeded without a snapshot")
	}
	if n := subscribers(h); n != 0 {
		t.Errorf("hub kept %d subscribers", n)
	}

	src.err = nil
	s := subscribe(t, h, src, geo.Filter{}, Scope{})
	src.err = errors.New("database down")
	if err := s.SetFilter(context.Background(), src, geo.Filter{IDs: []int64{1}}); err == nil {
		t.Fatal("SetFilter succeeded without a snapshot")
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("subscriber still open after its snapshot failed")
	}
	if s.Err() == nil {
		t.Error("Err is nil; the transport needs a reason")
	}
}

func TestHubCloseDropsEveryone(t *testing.T) {
	h := newHub(HubConfig{})
	a := subscribe(t, h, newFakeSource(), geo.Filter{}, Scope{})
	b := subscribe(t, h, newFakeSource(), geo.Filter{IDs: []int64{1}}, Scope{})
	h.Close()
	for _, s := range []*Subscriber{a, b} {
		<-s.Done()
		if !errors.Is(s.Err(), ErrHubClosed) {
			t.Errorf("closed with %v, want ErrHubClosed", s.Err())
		}
	}
	if _, err := h.Subscribe(context.Background(), newFakeSource(), Subscription{}); !errors.Is(err, ErrHubClosed) {
		t.Errorf("Subscribe after Close: %v, want ErrHubClosed", err)
	}
	publish(t, h, feature(1, 1, 0, 0)) // must not panic or block
}

func TestMessagesAreSplicedVerbatim(t *testing.T) {
	f := feature(7, 3, 1.5, -2)
	for _, tc := range []struct {
		got  Message
		want string
	}{
		{eventMessage(geo.PersonEvent{ID: 7, Version: 3}, f, 42), `{"type":"update","cursor":"42","feature":` + string(f) + `}`},
		{eventMessage(geo.PersonEvent{ID: 7, Version: 4, Deleted: true}, nil, 43), `{"type":"remove","cursor":"43","id":7}`},
		{snapshotMessage(nil, 9, ""), `{"type":"snapshot","cursor":"9","features":[]}`},
		{snapshotMessage([][]byte{f, f}, 9, reasonCursorExpired), `{"type":"snapshot","cursor":"9","reason":"cursor_expired","features":[` + string(f) + `,` + string(f) + `]}`},
		{errorMessage("invalid_parameter", `bad "bbox"`), `{"type":"error","error":{"code":"invalid_parameter","message":"bad \"bbox\""}}`},
	} {
		if string(tc.got.JSON) != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got.JSON, tc.want)
		}
		var typ struct{ Type string }
		if err := json.Unmarshal(tc.got.JSON, &typ); err != nil || typ.Type != tc.got.Type {
			t.Errorf("message %s: type %q, err %v; want its Type %q", tc.got.JSON, typ.Type, err, tc.got.Type)
		}
	}
}
