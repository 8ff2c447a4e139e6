package notify

import (
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"whereabouts/geo"
)

func TestWebSocketSendsTheSnapshotThenMatchingUpdates(t *testing.T) {
	e := newWSEnv(t, HubConfig{}, &WebSocket{}, Scope{})
	e.src.set(feature(1, 1, 5, 5))
	e.src.set(feature(2, 1, 50, 50))
	c := e.dial(t, "bbox=0,0,10,10", nil, nil)
	if got := read(t, c); got != "snapshot[1@1]" {
		t.Fatalf("first message %s, want the snapshot", got)
	}
	// In lockstep, so nothing coalesces: a message that should not be sent
	// would show up ahead of the next expected one.
	for _, step := range []struct {
		publish [][]byte
		want    string
	}{
		{[][]byte{feature(1, 2, 6, 6)}, "update 1@2"},
		{[][]byte{feature(2, 2, 51, 51), feature(1, 3, 60, 60)}, "update 1@3"}, // 1 moves out
		{[][]byte{feature(1, 4, 61, 61), feature(3, 1, 1, 1)}, "update 3@1"},
		{[][]byte{tombstone(3, 2)}, "remove 3"},
	} {
		for _, f := range step.publish {
			publish(t, e.hub, f)
		}
		if got := read(t, c); got != step.want {
			t.Errorf("got %s, want %s", got, step.want)
		}
	}
}

// Frames are built by hand for the batched write, so check every header
// size class against a real client.
func TestWebSocketFramesEveryMessageSize(t *testing.T) {
	e := newWSEnv(t, HubConfig{}, &WebSocket{}, Scope{})
	c := e.dial(t, "", nil, nil)
	read(t, c)
	publish(t, e.hub, tombstone(100, 1))       // a message under 126 bytes
	sizes := []int{160, 65535, 65536, 200_000} // boundaries below 160 are in TestTextFrameHeaders
	for i, n := range sizes {
		publish(t, e.hub, paddedFeature(t, int64(i+1), n))
	}
	if got := read(t, c); got != "remove 100" {
		t.Fatalf("got %s, want remove 100", got)
	}
	for i, n := range sizes {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("message of %d bytes: %v", n, err)
		}
		if len(data) != n {
			t.Errorf("message %d is %d bytes, want %d", i, len(data), n)
		}
		if got, want := summarizeOne(t, data), fmt.Sprintf("update %d@1", i+1); got != want {
			t.Errorf("message %d is %s, want %s", i, got, want)
		}
	}
}

func TestWebSocketSubscribeMessages(t *testing.T) {
	e := newWSEnv(t, HubConfig{}, &WebSocket{}, Scope{})
	e.src.set(feature(1, 1, 5, 5))
	e.src.set(feature(2, 1, 50, 50))
	c := e.dial(t, "", nil, nil)
	for _, step := range []struct{ send, want string }{
		{"", "snapshot[1@1 2@1]"},
		{`{"type":"subscribe","bbox":[0,0,10,10]}`, "snapshot[1@1]"},
		{`{"type":"subscribe","bbox":[1,2,3]}`, "error invalid_parameter"},
		{`{"type":"subscribe","bbox":[0,95,10,10]}`, "error invalid_parameter"},
		{`{"type":"subscribe","ids":[0]}`, "error invalid_parameter"},
		{`{"type":"subscribe","ids":["1"]}`, "error invalid_parameter"},
		{`not json`, "error invalid_parameter"},
		{`{"type":"unsubscribe"}`, "error invalid_parameter"},
		{`{"type":"subscribe","bbox":null,"ids":[2]}`, "snapshot[2@1]"},
		{`{"type":"subscribe"}`, "snapshot[1@1 2@1]"},
	} {
		if step.send != "" {
			send(t, c, step.send)
		}
		if got := read(t, c); got != step.want {
			t.Errorf("after %s: got %s, want %s", step.send, got, step.want)
		}
	}
	publish(t, e.hub, feature(2, 2, 50, 50)) // the stream goes on after errors
	if got := read(t, c); got != "update 2@2" {
		t.Errorf("got %s, want update 2@2", got)
	}
}

func TestWebSocketScopeHoldsAgainstSubscribeMessages(t *testing.T) {
	e := newWSEnv(t, HubConfig{}, &WebSocket{}, Scope{OnlyID: 2})
	e.src.set(feature(1, 1, 5, 5))
	e.src.set(feature(2, 1, 50, 50))
	c := e.dial(t, "", nil, nil)
	if got := read(t, c); got != "snapshot[2@1]" {
		t.Fatalf("got %s, want snapshot[2@1]", got)
	}
	send(t, c, `{"type":"subscribe","ids":[1]}`)
	if got := read(t, c); got != "snapshot[]" {
		t.Fatalf("got %s, want snapshot[]", got)
	}
	publish(t, e.hub, feature(1, 2, 5, 5))
	send(t, c, `{"type":"subscribe","ids":[1,2]}`)
	if got := read(t, c); got != "snapshot[2@1]" {
		t.Fatalf("got %s, want snapshot[2@1]", got)
	}
}

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  geo.Filter
		bad   string // the field a FieldError names
	}{
		{query: "", want: geo.Filter{}},
		{query: "bbox=1,2,3,4", want: geo.Filter{BBox: bbox(1, 2, 3, 4)}},
		{query: "bbox=170,-10,-170,10", want: geo.Filter{BBox: bbox(170, -10, -170, 10)}},
		{query: "ids=3,1,2", want: geo.Filter{IDs: []int64{3, 1, 2}}},
		{query: "ids=1&ids=2", want: geo.Filter{IDs: []int64{1, 2}}},
		{query: "ids=", want: geo.Filter{}},
		{query: "bbox=1,2,3", bad: "bbox"},
		{query: "bbox=1,2,3,x", bad: "bbox"},
		{query: "bbox=0,10,1,5", bad: "bbox"},
		{query: "ids=1,x", bad: "ids"},
		{query: "ids=-4", bad: "ids"},
	} {
		q, _ := url.ParseQuery(tc.query)
		f, err := ParseFilter(q)
		if tc.bad != "" {
			var fe *geo.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.bad {
				t.Errorf("%q: err %v, want a FieldError on %s", tc.query, err, tc.bad)
			}
			continue
		}
		if err != nil || fmt.Sprint(deref(f.BBox), f.IDs) != fmt.Sprint(deref(tc.want.BBox), tc.want.IDs) {
			t.Errorf("%q: got %v %v, %v; want %v %v", tc.query, deref(f.BBox), f.IDs, err, deref(tc.want.BBox), tc.want.IDs)
		}
	}
}

func deref(b *geo.BBox) any {
	if b == nil {
		return nil
	}
	return *b
}

func TestTextFrameHeaders(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xff, 0xff}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	} {
		if got := appendTextHeader(nil, tc.n); string(got) != string(tc.want) {
			t.Errorf("header for %d bytes: % x, want % x", tc.n, got, tc.want)
		}
	}
}
