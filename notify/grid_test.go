package notify

import (
	"math/rand/v2"
	"testing"

	"whereabouts/geo"
)

// The grid must find every subscriber a full scan would: random boxes
// (small, city-sized, across the antimeridian, too large to list, none) and
// random moves, near and far, including tombstones.
func TestGridVisitsEverySubscriberAFullScanWould(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := newHub(HubConfig{MaxQueueEntries: 1 << 20, MaxQueueBytes: 1 << 30})
	src := newFakeSource()
	randomPoint := func() geo.Point {
		if r.IntN(4) == 0 { // near the antimeridian
			return geo.Point{Lon: 179 + r.Float64()*2 - 1 - float64(r.IntN(2))*358, Lat: r.Float64()*2 - 1}
		}
		return geo.Point{Lon: 4.7 + r.Float64()*0.4, Lat: 52.2 + r.Float64()*0.3}
	}
	for i := range 300 {
		var f geo.Filter
		switch i % 5 {
		case 0: // everyone
		case 1: // a neighbourhood
			p := randomPoint()
			f.BBox = bbox(p.Lon, p.Lat, p.Lon+0.05, p.Lat+0.04)
		case 2: // the city
			f.BBox = bbox(4.7, 52.2, 5.1, 52.5)
		case 3: // across the antimeridian
			f.BBox = bbox(179.5, -0.5, -179.5, 0.5)
		case 4: // a continent: too many cells to list
			f.BBox = bbox(-10, 35, 30, 60)
		}
		subscribe(t, h, src, f, Scope{})
	}
	for n := range 3000 {
		id := int64(1 + r.IntN(50))
		ev := geo.PersonEvent{ID: id, Point: randomPoint()}
		h.mu.Lock()
		prev, seen := h.latest[id]
		ev.Version = prev.version + 1
		if n%37 == 0 {
			ev.Deleted, ev.Point = true, geo.Point{}
		}
		want := map[*Subscriber]bool{}
		for s := range h.subs {
			if s.wantsLocked(ev, prev, seen) {
				want[s] = true
			}
		}
		got := map[*Subscriber]bool{}
		h.candidatesLocked(ev, prev, seen, func(s *Subscriber) {
			if _, twice := got[s]; twice {
				t.Fatalf("event %d: a subscriber visited twice", n)
			}
			got[s] = s.wantsLocked(ev, prev, seen)
		})
		h.mu.Unlock()
		for s := range want {
			if !got[s] {
				t.Fatalf("event %d (%+v, before %+v seen %v): the grid missed a subscriber with %+v", n, ev, prev, seen, s.m.bbox)
			}
		}
		if ev.Deleted {
			publish(t, h, tombstone(id, ev.Version))
		} else {
			publish(t, h, feature(id, ev.Version, ev.Point.Lon, ev.Point.Lat))
		}
	}
}
