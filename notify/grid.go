package notify

import (
	"math"

	"whereabouts/geo"
)

// grid finds the subscribers an event may concern without testing every
// subscriber's bbox: each bbox subscription is listed in the cells it
// covers, so a move is tested only against the subscriptions of the cells of
// its old and new positions, plus those that watch everywhere (no bbox, or
// a bbox too large to list).
type grid struct {
	cells      map[cell]map[*Subscriber]struct{}
	everywhere map[*Subscriber]struct{}
	floored    map[*Subscriber]struct{} // see Subscriber.setFloorsLocked
}

type cell struct{ x, y int32 }

// cellDeg is the cells' size: about 5.5 km of latitude, so a city-wide
// bbox lists about a hundred cells and a neighbourhood a handful.
const cellDeg = 0.05

// maxCells bounds a subscription's listing; a larger bbox watches
// everywhere and is tested on every event, as without the grid.
const maxCells = 1024

func newGrid() grid {
	return grid{
		cells:      make(map[cell]map[*Subscriber]struct{}),
		everywhere: make(map[*Subscriber]struct{}),
		floored:    make(map[*Subscriber]struct{}),
	}
}

func cellOf(p geo.Point) cell {
	return cell{int32(math.Floor((p.Lon + 180) / cellDeg)), int32(math.Floor((p.Lat + 90) / cellDeg))}
}

// cover returns the cells of b, or ok false when b is too large to list.
func cover(b geo.BBox) (cells []cell, ok bool) {
	lons := [][2]float64{{b.MinLon, b.MaxLon}}
	if b.CrossesAntimeridian() {
		lons = [][2]float64{{b.MinLon, 180}, {-180, b.MaxLon}}
	}
	lo := cellOf(geo.Point{Lon: 0, Lat: b.MinLat}).y
	hi := cellOf(geo.Point{Lon: 0, Lat: b.MaxLat}).y
	for _, r := range lons {
		x0 := cellOf(geo.Point{Lon: r[0]}).x
		x1 := cellOf(geo.Point{Lon: r[1]}).x
		if len(cells)+int(x1-x0+1)*int(hi-lo+1) > maxCells {
			return nil, false
		}
		for x := x0; x <= x1; x++ {
			for y := lo; y <= hi; y++ {
				cells = append(cells, cell{x, y})
			}
		}
	}
	return cells, true
}

// add lists s by its current match; remove must be given the same match.
func (g *grid) add(s *Subscriber) {
	cells, ok := g.cellsOf(s.m)
	if !ok {
		g.everywhere[s] = struct{}{}
		return
	}
	for _, c := range cells {
		set := g.cells[c]
		if set == nil {
			set = make(map[*Subscriber]struct{})
			g.cells[c] = set
		}
		set[s] = struct{}{}
	}
}

func (g *grid) remove(s *Subscriber) {
	cells, ok := g.cellsOf(s.m)
	if !ok {
		delete(g.everywhere, s)
		return
	}
	for _, c := range cells {
		if set := g.cells[c]; set != nil {
			delete(set, s)
			if len(set) == 0 {
				delete(g.cells, c)
			}
		}
	}
}

func (g *grid) cellsOf(m match) ([]cell, bool) {
	if m.bbox == nil {
		return nil, false
	}
	return cover(*m.bbox)
}

// each calls f once for every subscriber whose bbox may hold p or prev (prev
// only when hadPrev), every subscriber that watches everywhere, and every
// one with floors.
// stamp tells visits of one event apart, so a subscriber listed in both
// cells is called once.
func (g *grid) each(p, prev geo.Point, hadPrev bool, stamp uint64, f func(*Subscriber)) {
	once := func(s *Subscriber) {
		if s.visited != stamp {
			s.visited = stamp
			f(s)
		}
	}
	for s := range g.everywhere {
		once(s)
	}
	for s := range g.floored {
		once(s)
	}
	visit := func(c cell) {
		for s := range g.cells[c] {
			once(s)
		}
	}
	here := cellOf(p)
	visit(here)
	if hadPrev {
		if before := cellOf(prev); before != here {
			visit(before)
		}
	}
}
