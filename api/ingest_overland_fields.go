package api

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"whereabouts/geo"
)

// ovlTimeLayouts are the ISO 8601 forms Overland-format senders use: the
// current app writes "2006-01-02T15:04:05Z", older versions (and the README
// example) an offset without a colon, which time.RFC3339 refuses. A
// fractional second is accepted after the seconds by every layout. No zone
// at all is read as UTC, the convention of every adapter.
var ovlTimeLayouts = [...]string{
	time.RFC3339,                // Z, +02:00
	"2006-01-02T15:04:05Z0700",  // -0700
	"2006-01-02T15:04:05Z07",    // -07
	"2006-01-02T15:04:05",       // no zone: UTC
	"2006-01-02 15:04:05Z07:00", // a space instead of T (RFC 3339 allows it)
}

// ovlMaxUnix bounds a numeric timestamp (milliseconds up to year ~5138), so
// that nonsense cannot overflow into a plausible time.
const ovlMaxUnix = 1e14

// ovlTime reads the fix time: an ISO 8601 string in one of ovlTimeLayouts,
// or Unix seconds/milliseconds told apart by magnitude (Traccar's rule).
// Missing means now, as for every adapter.
func ovlTime(raw json.RawMessage, now time.Time) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return now, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		for _, layout := range ovlTimeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, invalidLocation(fmt.Sprintf("timestamp %s is not an ISO 8601 time such as 2015-10-01T08:00:00-0700", ovlShort(raw)))
	}
	var n float64
	if json.Unmarshal(raw, &n) != nil || n < 0 || n > ovlMaxUnix {
		return time.Time{}, invalidLocation(fmt.Sprintf("timestamp %s is neither an ISO 8601 string nor Unix seconds/milliseconds", ovlShort(raw)))
	}
	if n > math.MaxInt32 {
		return time.UnixMilli(int64(n)).UTC(), nil
	}
	sec, frac := math.Modf(n)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// readings maps Overland's properties onto geo.Readings. CoreLocation
// reports an unknown speed, course or accuracy as a negative number (the
// app rounds it to -1) and UIDevice an unknown battery as -1, so a negative
// value is "not reported", never stored. Altitude is meaningless when
// vertical_accuracy is negative (CoreLocation's rule), whatever its value;
// z is the Point's third coordinate, used when there is no "altitude".
func (p ovlProps) readings(z *float64) (geo.Readings, error) {
	var r geo.Readings
	course := p.Course
	if len(course) == 0 || string(course) == "null" {
		course = p.Heading
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  **float64
	}{
		{"horizontal_accuracy", p.HorizontalAccuracy, &r.AccuracyM},
		{"speed", p.Speed, &r.SpeedMPS},
		{"course", course, &r.HeadingDeg},
		{"battery_level", p.BatteryLevel, &r.Battery},
	} {
		v, err := ovlNumber(f.name, f.raw)
		if err != nil {
			return r, err
		}
		if v != nil && *v >= 0 {
			*f.dst = v
		}
	}
	alt, err := ovlNumber("altitude", p.Altitude)
	if err != nil {
		return r, err
	}
	vacc, err := ovlNumber("vertical_accuracy", p.VerticalAccuracy)
	if err != nil {
		return r, err
	}
	if alt == nil {
		alt = z
	}
	if vacc == nil || *vacc >= 0 {
		r.AltitudeM = alt
	}
	return r, nil
}

// ovlNumber reads an optional JSON number; absent or null is nil. Anything
// else is refused by name, so the client learns which field is wrong.
func ovlNumber(name string, raw json.RawMessage) (*float64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, invalidLocation(fmt.Sprintf("%s must be a JSON number, not %s", name, ovlShort(raw)))
	}
	return &v, nil
}

// ovlString reads a JSON string, "" for anything else.
func ovlString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// ovlShort quotes at most 40 bytes of a value in an error message: a
// 16 MiB string should not come back in the response.
func ovlShort(raw json.RawMessage) string {
	const max = 40
	if len(raw) <= max {
		return string(raw)
	}
	return string(raw[:max]) + "…"
}
