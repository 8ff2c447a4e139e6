package notify

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"whereabouts/geo"
)

// match is a geo.Filter intersected with a Scope, ready for the hot path.
type match struct {
	bbox *geo.BBox
	ids  map[int64]struct{} // nil: everyone
	none bool               // the scope excludes every requested id
}

// newMatch intersects f with sc and returns the filter to ask the Source for.
func newMatch(f geo.Filter, sc Scope) (match, geo.Filter) {
	var m match
	if f.BBox != nil {
		b := *f.BBox
		m.bbox = &b
	}
	ids := f.IDs
	if sc.OnlyID != 0 {
		if len(ids) > 0 && !slices.Contains(ids, sc.OnlyID) {
			return match{none: true}, geo.Filter{}
		}
		ids = []int64{sc.OnlyID}
	}
	if len(ids) > 0 {
		m.ids = make(map[int64]struct{}, len(ids))
		for _, id := range ids {
			m.ids[id] = struct{}{}
		}
		ids = slices.Clone(ids)
	}
	return m, geo.Filter{BBox: m.bbox, IDs: ids}
}

func (m match) matchID(id int64) bool {
	if m.none {
		return false
	}
	if m.ids == nil {
		return true
	}
	_, ok := m.ids[id]
	return ok
}

func (m match) matchPoint(p geo.Point) bool { return m.bbox == nil || m.bbox.Contains(p) }

// ParseFilter reads the stream filter from a query: bbox=minLon,minLat,maxLon,maxLat
// and ids=1,2,3 (also repeated). Bad input is a *geo.FieldError, which the
// api layer answers with invalid_parameter.
func ParseFilter(q url.Values) (geo.Filter, error) {
	var f geo.Filter
	if s := q.Get("bbox"); s != "" {
		b, err := geo.ParseBBox(s)
		if err != nil {
			return geo.Filter{}, err
		}
		f.BBox = &b
	}
	for _, v := range q["ids"] {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			id, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				return geo.Filter{}, &geo.FieldError{Field: "ids", Reason: fmt.Sprintf("%q is not an integer", part)}
			}
			f.IDs = append(f.IDs, id)
		}
	}
	return f, validateIDs(f.IDs)
}

// subscribeMessage is what a client sends to change its filter.
type subscribeMessage struct {
	Type string    `json:"type"`
	BBox []float64 `json:"bbox"` // null or absent: no bbox
	IDs  []int64   `json:"ids"`
}

func (m subscribeMessage) filter() (geo.Filter, error) {
	if m.Type != "subscribe" {
		return geo.Filter{}, &geo.FieldError{Field: "type", Reason: fmt.Sprintf("%q is not a known message type", m.Type)}
	}
	f := geo.Filter{IDs: m.IDs}
	if m.BBox != nil {
		b, err := geo.NewBBox(m.BBox)
		if err != nil {
			return geo.Filter{}, err
		}
		f.BBox = &b
	}
	return f, validateIDs(f.IDs)
}

func validateIDs(ids []int64) error {
	for _, id := range ids {
		if id <= 0 {
			return &geo.FieldError{Field: "ids", Reason: fmt.Sprintf("%d is not a positive id", id)}
		}
	}
	return nil
}

// ParseCursor reads a stream cursor as clients send it back (?cursor=, or
// Last-Event-ID). Empty means none (0). Bad input is a *geo.FieldError.
func ParseCursor(field, s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	c, err := strconv.ParseUint(s, 10, 64)
	if err != nil || c == 0 {
		return 0, &geo.FieldError{Field: field, Reason: fmt.Sprintf("%q is not a cursor this server gave out", s)}
	}
	return c, nil
}
