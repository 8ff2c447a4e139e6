package geo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/geojson"
)

// PersonEvent is what Go needs to know about a person Feature to route it:
// who, which version, where and when. The Feature's bytes travel alongside
// untouched, so they are never re-encoded.
type PersonEvent struct {
	ID         int64
	Version    int64
	Deleted    bool
	Point      Point
	RecordedAt time.Time
}

// DecodePersonFeature parses a person Feature (as built by the database's
// person_feature function) and validates it. A deleted person is a Feature
// with a null geometry and properties.deleted = true.
func DecodePersonFeature(b []byte) (PersonEvent, error) {
	var f geojson.Feature
	if err := f.UnmarshalJSON(b); err != nil {
		return PersonEvent{}, fmt.Errorf("geo: decode feature: %w", err)
	}
	var ev PersonEvent
	id, err := strconv.ParseInt(f.ID, 10, 64)
	if err != nil || id <= 0 {
		return PersonEvent{}, fmt.Errorf("geo: decode feature: id %q is not a positive integer", f.ID)
	}
	ev.ID = id
	v, ok := f.Properties["version"].(float64)
	if !ok || v < 0 {
		return PersonEvent{}, fmt.Errorf("geo: decode feature %d: properties.version missing", id)
	}
	ev.Version = int64(v)
	if del, _ := f.Properties["deleted"].(bool); del {
		ev.Deleted = true
		return ev, nil
	}
	pt, ok := f.Geometry.(*geom.Point)
	if !ok || pt.Empty() {
		return PersonEvent{}, fmt.Errorf("geo: decode feature %d: geometry is not a Point", id)
	}
	ev.Point = Point{Lon: pt.X(), Lat: pt.Y()}
	if err := ev.Point.Validate(); err != nil {
		return PersonEvent{}, fmt.Errorf("geo: decode feature %d: %w", id, err)
	}
	if s, ok := f.Properties["recorded_at"].(string); ok {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return PersonEvent{}, fmt.Errorf("geo: decode feature %d: recorded_at: %w", id, err)
		}
		ev.RecordedAt = t
	}
	return ev, nil
}
