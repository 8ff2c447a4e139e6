package geo

import (
	"encoding/json"
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

// personFeature is the part of a person Feature that routing reads: the
// geometry through go-geom's GeoJSON types, the properties into fixed
// fields. go-geom's Feature decoder would build a map of every property; the
// listener decodes every move, and that map was a tenth of the server's CPU
// under single-position ingest.
type personFeature struct {
	Type       string            `json:"type"`
	ID         json.RawMessage   `json:"id"`
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties struct {
		Version    *float64 `json:"version"`
		Deleted    bool     `json:"deleted"`
		RecordedAt *string  `json:"recorded_at"`
	} `json:"properties"`
}

// DecodePersonFeature parses a person Feature (as built by the database's
// person_feature function) and validates it. A deleted person is a Feature
// with a null geometry and properties.deleted = true.
func DecodePersonFeature(b []byte) (PersonEvent, error) {
	var f personFeature
	if err := json.Unmarshal(b, &f); err != nil {
		return PersonEvent{}, fmt.Errorf("geo: decode feature: %w", err)
	}
	if f.Type != "Feature" {
		return PersonEvent{}, fmt.Errorf("geo: decode feature: type %q is not Feature", f.Type)
	}
	var ev PersonEvent
	// GeoJSON allows a string id; ours are numbers, but either spelling of a
	// positive integer is the same person.
	rawID := string(f.ID)
	if unquoted, err := strconv.Unquote(rawID); err == nil {
		rawID = unquoted
	}
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil || id <= 0 {
		return PersonEvent{}, fmt.Errorf("geo: decode feature: id %s is not a positive integer", f.ID)
	}
	ev.ID = id
	v := f.Properties.Version
	if v == nil || *v < 0 {
		return PersonEvent{}, fmt.Errorf("geo: decode feature %d: properties.version missing", id)
	}
	ev.Version = int64(*v)
	if f.Properties.Deleted {
		ev.Deleted = true
		return ev, nil
	}
	var g geom.T
	if f.Geometry != nil {
		g, _ = f.Geometry.Decode()
	}
	pt, ok := g.(*geom.Point)
	if !ok || pt.Empty() {
		return PersonEvent{}, fmt.Errorf("geo: decode feature %d: geometry is not a Point", id)
	}
	ev.Point = Point{Lon: pt.X(), Lat: pt.Y()}
	if err := ev.Point.Validate(); err != nil {
		return PersonEvent{}, fmt.Errorf("geo: decode feature %d: %w", id, err)
	}
	if s := f.Properties.RecordedAt; s != nil {
		t, err := time.Parse(time.RFC3339Nano, *s)
		if err != nil {
			return PersonEvent{}, fmt.Errorf("geo: decode feature %d: recorded_at: %w", id, err)
		}
		ev.RecordedAt = t
	}
	return ev, nil
}
