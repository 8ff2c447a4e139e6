package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"whereabouts/geo"
)

// otMessage is one OwnTracks message as the adapter needs it: its _type and,
// for a location, the position it reports (already valid, see geo).
type otMessage struct {
	Type     string
	Position *geo.Position
}

// otFields is one OwnTracks JSON object, kept raw so each field can be read
// leniently (numbers as strings) and reported by its OwnTracks name.
type otFields map[string]json.RawMessage

// parseOwnTracks reads an HTTP-mode body: one message object, or an array of
// them (the json-schema allows it). It is pure: now stands in for a missing
// tst. Every position it returns passes geo's Validate; anything else is an
// *Error for the client (invalid_json, invalid_location, unsupported_message).
func parseOwnTracks(body []byte, now time.Time) ([]otMessage, error) {
	body = bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if !json.Valid(body) {
		return nil, errorf(http.StatusBadRequest, "invalid_json", "the body is not an OwnTracks JSON message")
	}
	if body[0] != '[' {
		m, err := otParseOne(body, now)
		if err != nil {
			return nil, err
		}
		return []otMessage{m}, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_json", "the body is not an array of OwnTracks messages")
	}
	msgs := make([]otMessage, 0, len(raws))
	for i, raw := range raws {
		m, err := otParseOne(raw, now)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				err = errorf(e.Status, e.Code, fmt.Sprintf("message %d: %s", i, e.Message))
			}
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// otParseOne reads one message. Types other than location are returned
// without a position: the adapter accepts and ignores them. An encrypted
// message is refused because it would be dropped unread: every later
// location would vanish without anybody noticing.
func otParseOne(raw []byte, now time.Time) (otMessage, error) {
	var f otFields
	if json.Unmarshal(raw, &f) != nil || f == nil {
		return otMessage{}, errorf(http.StatusBadRequest, "invalid_json", "an OwnTracks message must be a JSON object")
	}
	var typ string
	if json.Unmarshal(f["_type"], &typ) != nil || typ == "" {
		return otMessage{}, errorf(http.StatusBadRequest, "invalid_json", `an OwnTracks message needs "_type" (a string such as "location")`)
	}
	switch typ {
	case "location":
		p, err := f.location(now)
		if err != nil {
			return otMessage{}, err
		}
		return otMessage{Type: typ, Position: &p}, nil
	case "encrypted":
		return otMessage{}, errorf(http.StatusBadRequest, "unsupported_message",
			"encrypted OwnTracks payloads are not supported: clear the encryption key in the app")
	}
	return otMessage{Type: typ}, nil
}

// otReading maps an optional OwnTracks reading onto geo's units.
type otReading struct {
	key    string
	div    float64 // OwnTracks unit per geo unit: km/h per m/s, percent per fraction
	signed bool    // negative values are real (altitude), not "unknown"
	dst    **float64
}

// location reads a _type=location message. tst is the fix time (created_at
// is when the message was built, so it is ignored); a negative acc, vel,
// cog or batt is the apps' "unknown" and is left out.
func (f otFields) location(now time.Time) (geo.Position, error) {
	var p geo.Position
	lat, okLat, err1 := f.number("lat")
	lon, okLon, err2 := f.number("lon")
	if err := firstErr(err1, err2); err != nil {
		return p, err
	}
	if !okLat || !okLon {
		return p, invalidLocation("a location needs lat and lon")
	}
	p.Point = geo.Point{Lon: lon, Lat: lat}
	var err error
	if p.RecordedAt, err = f.tst(now); err != nil {
		return p, err
	}
	for _, r := range []otReading{
		{"acc", 1, false, &p.AccuracyM},
		{"alt", 1, true, &p.AltitudeM},
		{"vel", 3.6, false, &p.SpeedMPS},
		{"cog", 1, false, &p.HeadingDeg},
		{"batt", 100, false, &p.Battery},
	} {
		v, ok, err := f.number(r.key)
		if err != nil {
			return p, err
		}
		if ok && (r.signed || v >= 0) {
			v /= r.div
			*r.dst = &v
		}
	}
	return p, otRename(p.Validate())
}

// tst reads the fix time in Unix seconds (fractions kept to the
// microsecond); a value too large for seconds is taken as milliseconds, as
// Traccar does. A message without tst was made now.
func (f otFields) tst(now time.Time) (time.Time, error) {
	v, ok, err := f.number("tst")
	if err != nil || !ok {
		return now, err
	}
	if v <= 0 || v > 1e14 {
		return time.Time{}, invalidLocation(fmt.Sprintf("tst %g is not a Unix time in seconds", v))
	}
	if v > math.MaxInt32 {
		return time.UnixMilli(int64(v)).UTC(), nil
	}
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
}

// number reads a JSON number or a numeric string ("52.1": some app versions
// and forks send them). The string must hold a JSON number literal, so NaN,
// Infinity, hex and padding are refused; "" and null mean absent.
func (f otFields) number(key string) (float64, bool, error) {
	raw, ok := f[key]
	if !ok || string(raw) == "null" {
		return 0, false, nil
	}
	lit := []byte(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s = strings.TrimSpace(s); s == "" {
			return 0, false, nil
		}
		lit = []byte(s)
	}
	var v float64
	if len(lit) == 0 || (lit[0] != '-' && (lit[0] < '0' || lit[0] > '9')) || json.Unmarshal(lit, &v) != nil {
		return 0, false, invalidLocation(fmt.Sprintf("%s must be a finite number, not %s", key, otShort(raw)))
	}
	return v, true, nil
}

// otRename names a geo field error after the OwnTracks key the client sent,
// so "vel" is not reported as "speed_mps".
func otRename(err error) error {
	var fe *geo.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	key := map[string]string{"recorded_at": "tst", "accuracy_m": "acc", "altitude_m": "alt",
		"speed_mps": "vel", "heading_deg": "cog", "battery": "batt"}[fe.Field]
	if key == "" {
		return invalidLocation(fe.Error())
	}
	return invalidLocation(key + ": " + fe.Error())
}

// otShort keeps error messages short when a client sends a huge value.
func otShort(raw []byte) string {
	if len(raw) > 40 {
		return string(raw[:40]) + "..."
	}
	return string(raw)
}
