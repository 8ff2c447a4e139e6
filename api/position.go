package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/geojson"

	"whereabouts/geo"
)

// fields is one JSON object, kept raw so each field's type can be checked and
// reported by name.
type fields map[string]json.RawMessage

// parsePosition reads one position in any of the accepted shapes: a flat
// object {"lat","lon",...}, a GeoJSON Point, or a GeoJSON Feature with a
// Point geometry and the other fields in its properties. It returns the
// person_id field too (0 when absent), which batches require.
func parsePosition(raw json.RawMessage, now time.Time) (int64, geo.Position, error) {
	var obj fields
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return 0, geo.Position{}, invalidLocation("a position must be a JSON object")
	}
	var p geo.Position
	props := obj
	var err error
	switch typ := strings.Trim(string(obj["type"]), `"`); typ {
	case "":
		lat, err1 := obj.number("lat", true)
		lon, err2 := obj.number("lon", true)
		if err1 != nil || err2 != nil {
			return 0, p, firstErr(err1, err2)
		}
		p.Point = geo.Point{Lon: *lon, Lat: *lat}
	case "Point":
		p.Point, p.AltitudeM, err = decodePoint(raw)
	case "Feature":
		props = fields{}
		if len(obj["properties"]) > 0 && string(obj["properties"]) != "null" {
			if json.Unmarshal(obj["properties"], &props) != nil {
				return 0, p, invalidLocation("properties must be an object")
			}
		}
		p.Point, p.AltitudeM, err = decodePoint(obj["geometry"])
	default:
		return 0, p, invalidLocation(fmt.Sprintf("type %s is not accepted; send a Point, a Feature or {\"lat\", \"lon\"}", obj["type"]))
	}
	if err != nil {
		return 0, p, err
	}
	if err := props.readings(&p); err != nil {
		return 0, p, err
	}
	if p.RecordedAt, err = props.time("recorded_at", now); err != nil {
		return 0, p, err
	}
	id, err := props.number("person_id", false)
	if err != nil || id == nil {
		return 0, p, err
	}
	if *id != math.Trunc(*id) || *id < 1 || *id > math.MaxInt64/2 {
		return 0, p, invalidLocation("person_id must be a positive integer")
	}
	return int64(*id), p, nil
}

func (f fields) readings(p *geo.Position) error {
	for _, r := range []struct {
		name string
		dst  **float64
	}{
		{"accuracy_m", &p.AccuracyM}, {"speed_mps", &p.SpeedMPS}, {"heading_deg", &p.HeadingDeg},
		{"altitude_m", &p.AltitudeM}, {"battery", &p.Battery},
	} {
		v, err := f.number(r.name, false)
		if err != nil {
			return err
		}
		if v != nil {
			*r.dst = v
		}
	}
	return nil
}

// number reads a JSON number. Strings ("NaN", "1.5"), booleans and the like
// are refused by name: a number that is not a number is a client bug.
func (f fields) number(name string, required bool) (*float64, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		if required {
			return nil, invalidLocation(name + " is required")
		}
		return nil, nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, invalidLocation(fmt.Sprintf("%s must be a JSON number, not %s", name, raw))
	}
	return &v, nil
}

// time reads an RFC 3339 string or a Unix time in seconds or milliseconds
// (told apart by magnitude, as Traccar does); absent means now.
func (f fields) time(name string, now time.Time) (time.Time, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		return now, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, invalidLocation(fmt.Sprintf("%s %q is not an RFC 3339 time", name, s))
		}
		return t.UTC(), nil
	}
	var n float64
	if json.Unmarshal(raw, &n) != nil {
		return time.Time{}, invalidLocation(name + " must be an RFC 3339 string or Unix seconds/milliseconds")
	}
	// Past year 9999 in milliseconds is no time a device took a fix, and it
	// would overflow PostgreSQL's timestamps.
	if n < 0 || n > 253402300799999 {
		return time.Time{}, invalidLocation(fmt.Sprintf("%s %v is not a plausible Unix time", name, n))
	}
	if n > math.MaxInt32 {
		return time.UnixMilli(int64(n)).UTC(), nil
	}
	sec, frac := math.Modf(n)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// decodePoint reads a GeoJSON Point with go-geom; a third coordinate is the
// altitude.
func decodePoint(raw json.RawMessage) (geo.Point, *float64, error) {
	var g geom.T
	if len(raw) == 0 || geojson.Unmarshal(raw, &g) != nil {
		return geo.Point{}, nil, invalidLocation("geometry must be a GeoJSON Point")
	}
	pt, ok := g.(*geom.Point)
	if !ok || pt.Empty() {
		return geo.Point{}, nil, invalidLocation("geometry must be a non-empty GeoJSON Point")
	}
	var alt *float64
	if pt.Layout() == geom.XYZ {
		z := pt.Z()
		alt = &z
	}
	return geo.Point{Lon: pt.X(), Lat: pt.Y()}, alt, nil
}

func invalidLocation(msg string) *Error {
	return errorf(http.StatusBadRequest, "invalid_location", msg)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
