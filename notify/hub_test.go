package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"whereabouts/geo"
)

func TestHubRoutesEventsThroughEachFilter(t *testing.T) {
	h := newHub(HubConfig{})
	src := newFakeSource()
	subs := map[string]*Subscriber{
		"everything":    subscribe(t, h, src, geo.Filter{}, Scope{}),
		"ids 1":         subscribe(t, h, src, geo.Filter{IDs: []int64{1}}, Scope{}),
		"bbox":          subscribe(t, h, src, geo.Filter{BBox: bbox(0, 0, 10, 10)}, Scope{}),
		"ids 2 in bbox": subscribe(t, h, src, geo.Filter{IDs: []int64{2}, BBox: bbox(0, 0, 10, 10)}, Scope{}),
	}
	got := map[string][]string{}
	for _, f := range [][]byte{
		feature(1, 1, 5, 5),
		feature(2, 1, 5, 5),
		feature(3, 1, 20, 20),
		feature(2, 2, 20, 20), // out of the bbox: sent once
		feature(2, 3, 21, 21), // still out: not sent to bbox subscribers
		tombstone(1, 2),       // last seen inside
		tombstone(3, 2),       // last seen outside
	} {
		publish(t, h, f)
		for name, s := range subs { // drain each time so nothing coalesces
			got[name] = append(got[name], drain(t, s)...)
		}
	}
	want := map[string][]string{
		"everything":    {"snapshot[]", "update 1@1", "update 2@1", "update 3@1", "update 2@2", "update 2@3", "remove 1", "remove 3"},
		"ids 1":         {"snapshot[]", "update 1@1", "remove 1"},
		"bbox":          {"snapshot[]", "update 1@1", "update 2@1", "update 2@2", "remove 1"},
		"ids 2 in bbox": {"snapshot[]", "update 2@1", "update 2@2"},
	}
	for name := range subs {
		equal(t, name, got[name], want[name])
	}
}

func TestHubSendsAMoveOutOfTheBBoxOnce(t *testing.T) {
	h := newHub(HubConfig{})
	s := subscribe(t, h, newFakeSource(), geo.Filter{BBox: bbox(170, -10, -170, 10)}, Scope{}) // across the antimeridian
	var got []string
	for _, f := range [][]byte{
		feature(1, 1, 175, 0),  // in
		feature(1, 2, -175, 1), // in, the other side of 180
		feature(1, 3, 0, 0),    // out: sent so the map drops it
		feature(1, 4, 1, 0),    // still out
		feature(1, 5, 179, 0),  // back in
	} {
		publish(t, h, f)
		got = append(got, drain(t, s)...)
	}
	equal(t, "messages", got, []string{"snapshot[]", "update 1@1", "update 1@2", "update 1@3", "update 1@5"})
}

func TestHubScopeCannotBeWidened(t *testing.T) {
	h := newHub(HubConfig{})
	src := newFakeSource(feature(1, 1, 0, 0), feature(2, 1, 0, 0))
	s := subscribe(t, h, src, geo.Filter{}, Scope{OnlyID: 1})
	if got := src.lastFilter.IDs; len(got) != 1 || got[0] != 1 {
		t.Errorf("snapshot asked for ids %v, want [1]", got)
	}
	publish(t, h, feature(1, 2, 0, 0))
	publish(t, h, feature(2, 2, 0, 0))
	equal(t, "no filter", drain(t, s), []string{"snapshot[1@1]", "update 1@2"})

	if err := s.SetFilter(context.Background(), src, geo.Filter{IDs: []int64{2}}); err != nil {
		t.Fatal(err)
	}
	publish(t, h, feature(1, 3, 0, 0))
	publish(t, h, feature(2, 3, 0, 0))
	equal(t, "asking for someone else", drain(t, s), []string{"snapshot[]"})

	if err := s.SetFilter(context.Background(), src, geo.Filter{IDs: []int64{1, 2}}); err != nil {
		t.Fatal(err)
	}
	publish(t, h, feature(2, 4, 0, 0))
	publish(t, h, feature(1, 4, 0, 0))
	equal(t, "asking for both", drain(t, s), []string{"snapshot[1@1]", "update 1@4"})
}

func TestHubQueueDeliversEveryMoveUntilTheSubscriberFallsBehind(t *testing.T) {
	h := newHub(HubConfig{})
	s := subscribe(t, h, newFakeSource(), geo.Filter{}, Scope{})
	for v := int64(1); v <= 3; v++ {
		publish(t, h, feature(1, v, 0, 0))
	}
	publish(t, h, feature(2, 1, 0, 0))
	publish(t, h, feature(3, 1, 0, 0))
	publish(t, h, tombstone(3, 2))
	equal(t, "a subscriber keeping up", drain(t, s),
		[]string{"snapshot[]", "update 1@1", "update 1@2", "update 1@3", "update 2@1", "update 3@1", "remove 3"})

	// Fill the queue to the coalescing point with other people, then move
	// person 1 many times and person 10 (queued before coalescing began)
	// once more: only each one's latest move is kept, at the back, so that
	// the cursors the client passes never run ahead of what it has.
	for id := int64(10); id < 10+coalesceAfter; id++ {
		publish(t, h, feature(id, 1, 0, 0))
	}
	for v := int64(4); v <= 9; v++ {
		publish(t, h, feature(1, v, 0, 0))
	}
	publish(t, h, feature(10, 2, 0, 0))
	got := drain(t, s)
	if len(got) != coalesceAfter+1 || got[0] != "update 11@1" ||
		!slices.Equal(got[len(got)-2:], []string{"update 1@9", "update 10@2"}) {
		t.Fatalf("behind: %d messages %q…%q, want %d from update 11@1 to update 1@9, update 10@2",
			len(got), got[0], got[len(got)-2:], coalesceAfter+1)
	}
	if n := h.Stats().Coalesced; n != 6 {
		t.Errorf("coalesced %d events, want 6 (1@4..1@8 and 10@1)", n)
	}
}

func TestHubDropsASlowSubscriberAndKeepsServingTheFastOne(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  HubConfig
	}{
		{"bounded by entries", HubConfig{MaxQueueEntries: 5}},
		{"bounded by bytes", HubConfig{MaxQueueBytes: 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(tc.cfg)
			slow := subscribe(t, h, newFakeSource(), geo.Filter{}, Scope{})
			fast := subscribe(t, h, newFakeSource(), geo.Filter{}, Scope{})
			var got, want []string
			want = append(want, "snapshot[]")
			for id := int64(1); id <= 50; id++ {
				publish(t, h, feature(id, 1, 0, 0))
				want = append(want, fmt.Sprintf("update %d@1", id))
				got = append(got, drain(t, fast)...)
			}
			equal(t, "fast subscriber", got, want)
			select {
			case <-slow.Done():
			default:
				t.Fatal("slow subscriber is still subscribed")
			}
			if !errors.Is(slow.Err(), ErrTooSlow) {
				t.Errorf("slow subscriber closed with %v, want ErrTooSlow", slow.Err())
			}
			if n := subscribers(h); n != 1 {
				t.Errorf("hub has %d subscribers, want 1", n)
			}
			if msgs := slow.Next(nil); len(msgs) != 0 {
				t.Errorf("dropped subscriber still has %d messages", len(msgs))
			}
		})
	}
}

func TestHubDropsReplayedAndStaleEvents(t *testing.T) {
	h := newHub(HubConfig{})
	s := subscribe(t, h, newFakeSource(), geo.Filter{}, Scope{})
	var got []string
	for _, f := range [][]byte{
		feature(1, 2, 0, 0),
		feature(1, 1, 0, 0), // older
		feature(1, 2, 0, 0), // replayed by a resync
		tombstone(1, 1),     // older than what we know
		feature(1, 3, 0, 0),
		tombstone(1, 3), // a tombstone may repeat the last version
	} {
		publish(t, h, f)
		got = append(got, drain(t, s)...)
	}
	equal(t, "messages", got, []string{"snapshot[]", "update 1@2", "update 1@3", "remove 1"})
}

func TestHubRemoveGoesWhereThePersonWasLastSeen(t *testing.T) {
	h := newHub(HubConfig{})
	s := subscribe(t, h, newFakeSource(), geo.Filter{BBox: bbox(0, 0, 10, 10)}, Scope{})
	publish(t, h, feature(1, 1, 5, 5))
	publish(t, h, feature(2, 1, 50, 50))
	drain(t, s)
	publish(t, h, tombstone(1, 2))
	publish(t, h, tombstone(2, 2))
	publish(t, h, tombstone(9, 4)) // never seen: better an extra remove than a stale marker
	equal(t, "messages", drain(t, s), []string{"remove 1", "remove 9"})
}
