package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"whereabouts/geo"
)

// feature builds a person Feature the way the database does.
func feature(id, version int64, lon, lat float64) []byte {
	return fmt.Appendf(nil, `{"type":"Feature","id":%d,"geometry":{"type":"Point","coordinates":[%g,%g]},`+
		`"properties":{"name":"p%d","recorded_at":"2026-01-02T03:04:05.000000Z","version":%d}}`,
		id, lon, lat, id, version)
}

func tombstone(id, version int64) []byte {
	return fmt.Appendf(nil, `{"type":"Feature","id":%d,"geometry":null,"properties":{"deleted":true,"version":%d}}`,
		id, version)
}

func publish(t testing.TB, h *Hub, f []byte) {
	t.Helper()
	ev, err := geo.DecodePersonFeature(f)
	if err != nil {
		t.Fatalf("test feature %s: %v", f, err)
	}
	h.Publish(ev, f)
}

// fakeSource is the database as the hub sees it: the current Feature of
// each person. during, if set, runs inside Snapshot after the read, which is
// where events race with a snapshot.
type fakeSource struct {
	mu         sync.Mutex
	people     map[int64][]byte
	err        error
	during     func()
	lastFilter geo.Filter
}

func newFakeSource(features ...[]byte) *fakeSource {
	s := &fakeSource{people: make(map[int64][]byte)}
	for _, f := range features {
		s.set(f)
	}
	return s
}

func (s *fakeSource) set(f []byte) {
	ev, err := geo.DecodePersonFeature(f)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.people[ev.ID] = f
}

func (s *fakeSource) Snapshot(ctx context.Context, f geo.Filter) ([][]byte, uint64, error) {
	s.mu.Lock()
	s.lastFilter = f
	err := s.err
	var out [][]byte
	for _, id := range slices.Sorted(maps.Keys(s.people)) {
		ev, _ := geo.DecodePersonFeature(s.people[id])
		if !ev.Deleted && f.Matches(ev.ID, ev.Point) {
			out = append(out, s.people[id])
		}
	}
	during := s.during
	s.mu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	if during != nil {
		during()
	}
	return out, 1, nil
}

func (s *fakeSource) ChangesSince(ctx context.Context, cursor uint64) ([][]byte, uint64, bool, error) {
	snap, _, err := s.Snapshot(ctx, geo.Filter{})
	return snap, cursor + 1, true, err
}

// summarize turns messages into short strings that read well in a failure:
// "snapshot[1@3 2@1]", "update 1@4", "remove 1", "error invalid_parameter".
func summarize(t testing.TB, msgs []Message) []string {
	t.Helper()
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, summarizeOne(t, m.JSON))
	}
	return out
}

func summarizeOne(t testing.TB, m []byte) string {
	t.Helper()
	var msg struct {
		Type     string            `json:"type"`
		Feature  json.RawMessage   `json:"feature"`
		Features []json.RawMessage `json:"features"`
		ID       int64             `json:"id"`
		Error    struct{ Code string }
	}
	if err := json.Unmarshal(m, &msg); err != nil {
		t.Fatalf("message %s is not JSON: %v", m, err)
	}
	short := func(f []byte) string {
		ev, err := geo.DecodePersonFeature(f)
		if err != nil {
			t.Fatalf("feature %s: %v", f, err)
		}
		return fmt.Sprintf("%d@%d", ev.ID, ev.Version)
	}
	switch msg.Type {
	case "update":
		return "update " + short(msg.Feature)
	case "remove":
		return fmt.Sprintf("remove %d", msg.ID)
	case "snapshot":
		var parts []string
		for _, f := range msg.Features {
			parts = append(parts, short(f))
		}
		return "snapshot[" + strings.Join(parts, " ") + "]"
	case "error":
		return "error " + msg.Error.Code
	}
	t.Fatalf("unknown message %s", m)
	return ""
}

// drain returns the summaries of everything queued for s.
func drain(t testing.TB, s *Subscriber) []string {
	t.Helper()
	return summarize(t, s.Next(nil))
}

func subscribe(t testing.TB, h *Hub, src Source, f geo.Filter, sc Scope) *Subscriber {
	t.Helper()
	s, err := h.Subscribe(context.Background(), src, Subscription{Filter: f, Scope: sc})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func bbox(minLon, minLat, maxLon, maxLat float64) *geo.BBox {
	b, err := geo.NewBBox([]float64{minLon, minLat, maxLon, maxLat})
	if err != nil {
		panic(err)
	}
	return &b
}

func equal(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// newHub is a hub whose warnings (expected in these tests) stay quiet.
func newHub(cfg HubConfig) *Hub {
	cfg.Log = slog.New(slog.DiscardHandler)
	return NewHub(cfg)
}

// subscribers counts the hub's subscribers.
func subscribers(h *Hub) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
