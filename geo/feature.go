package geo

import (
	"bytes"
	"encoding/json"
	"errors"
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
//
// The listener decodes every move, so this reads only what routing needs:
// after one validity scan it walks the object's members, decodes the
// geometry with go-geom and the few properties by hand. (Decoding the whole
// Feature through encoding/json was a quarter of the server's CPU in batch
// ingest.)
func DecodePersonFeature(b []byte) (PersonEvent, error) {
	if !json.Valid(b) {
		return PersonEvent{}, errors.New("geo: decode feature: not valid JSON")
	}
	var typ, rawID, geometry, props []byte
	if err := members(b, func(key, value []byte) {
		switch string(key) {
		case `"type"`:
			typ = value
		case `"id"`:
			rawID = value
		case `"geometry"`:
			geometry = value
		case `"properties"`:
			props = value
		}
	}); err != nil {
		return PersonEvent{}, fmt.Errorf("geo: decode feature: %w", err)
	}
	if string(typ) != `"Feature"` {
		return PersonEvent{}, fmt.Errorf("geo: decode feature: type %s is not Feature", typ)
	}
	// GeoJSON allows a string id; ours are numbers, but either spelling of a
	// positive integer is the same person.
	id, err := strconv.ParseInt(string(bytes.Trim(rawID, `"`)), 10, 64)
	if err != nil || id <= 0 {
		return PersonEvent{}, fmt.Errorf("geo: decode feature: id %s is not a positive integer", rawID)
	}
	ev := PersonEvent{ID: id}
	var version, deleted, recordedAt []byte
	if err := members(props, func(key, value []byte) {
		switch string(key) {
		case `"version"`:
			version = value
		case `"deleted"`:
			deleted = value
		case `"recorded_at"`:
			recordedAt = value
		}
	}); err != nil {
		return PersonEvent{}, fmt.Errorf("geo: decode feature %d: properties: %w", id, err)
	}
	v, err := strconv.ParseFloat(string(version), 64)
	if err != nil || v < 0 {
		return PersonEvent{}, fmt.Errorf("geo: decode feature %d: properties.version missing", id)
	}
	ev.Version = int64(v)
	switch string(deleted) {
	case "true":
		ev.Deleted = true
		return ev, nil
	case "", "false", "null":
	default:
		return PersonEvent{}, fmt.Errorf("geo: decode feature %d: properties.deleted %s is not a boolean", id, deleted)
	}
	var g geom.T
	if len(geometry) > 0 && string(geometry) != "null" {
		g = decodeGeometry(geometry)
	}
	pt, ok := g.(*geom.Point)
	if !ok || pt.Empty() {
		return PersonEvent{}, fmt.Errorf("geo: decode feature %d: geometry is not a Point", id)
	}
	ev.Point = Point{Lon: pt.X(), Lat: pt.Y()}
	if err := ev.Point.Validate(); err != nil {
		return PersonEvent{}, fmt.Errorf("geo: decode feature %d: %w", id, err)
	}
	if recordedAt != nil && string(recordedAt) != "null" {
		s, ok := plainString(recordedAt)
		if !ok {
			return PersonEvent{}, fmt.Errorf("geo: decode feature %d: recorded_at %s is not a time", id, recordedAt)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return PersonEvent{}, fmt.Errorf("geo: decode feature %d: recorded_at: %w", id, err)
		}
		ev.RecordedAt = t
	}
	return ev, nil
}

// decodeGeometry decodes a GeoJSON geometry object with go-geom, or
// returns nil.
func decodeGeometry(b []byte) geom.T {
	var typ, coords []byte
	if members(b, func(key, value []byte) {
		switch string(key) {
		case `"type"`:
			typ = value
		case `"coordinates"`:
			coords = value
		}
	}) != nil {
		return nil
	}
	t, ok := plainString(typ)
	if !ok || coords == nil {
		return nil
	}
	raw := json.RawMessage(coords)
	g, err := (&geojson.Geometry{Type: t, Coordinates: &raw}).Decode()
	if err != nil {
		return nil
	}
	return g
}

// plainString returns the contents of a JSON string without escapes; ok is
// false for anything else (no time or geometry type needs an escape).
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' || bytes.IndexByte(b, '\\') >= 0 {
		return "", false
	}
	return string(b[1 : len(b)-1]), true
}

// members calls f with each member of the JSON object b, which must be
// valid JSON: the key as written (quotes included) and the value's bytes.
// A later duplicate key wins, as with encoding/json.
func members(b []byte, f func(key, value []byte)) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errors.New("not an object")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for i < len(b) {
		end := skipValue(b, i) // the key, a string
		key := b[i:end]
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // past ':'
		end = skipValue(b, i)
		f(key, b[i:end])
		i = skipSpace(b, end)
		if i >= len(b) || b[i] == '}' {
			return nil
		}
		i = skipSpace(b, i+1) // past ','
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns where the valid JSON value starting at b[i] ends.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default: // a number, true, false or null
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// skipString returns where the string starting at b[i] ends, past its quote.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}
