// Package geo holds the domain of Whereabouts: positions, their readings,
// bounding boxes and the rules that make a position acceptable. It is pure:
// no I/O, and it imports nothing else of this module.
package geo

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// MaxFuture is how far ahead of the server clock a fix may be stamped; phones
// with a slightly fast clock are common, a fix from tomorrow is a bug.
const MaxFuture = 5 * time.Minute

// Point is a WGS 84 coordinate pair.
type Point struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

// Validate reports whether the point is finite and inside lon [-180, 180],
// lat [-90, 90].
func (p Point) Validate() error {
	if math.IsNaN(p.Lat) || math.IsInf(p.Lat, 0) {
		return &FieldError{Field: "lat", Reason: "must be a finite number"}
	}
	if math.IsNaN(p.Lon) || math.IsInf(p.Lon, 0) {
		return &FieldError{Field: "lon", Reason: "must be a finite number"}
	}
	if p.Lat < -90 || p.Lat > 90 {
		return &FieldError{Field: "lat", Reason: fmt.Sprintf("%g is outside [-90, 90]", p.Lat)}
	}
	if p.Lon < -180 || p.Lon > 180 {
		return &FieldError{Field: "lon", Reason: fmt.Sprintf("%g is outside [-180, 180]", p.Lon)}
	}
	return nil
}

// Readings are the optional measurements a device sends with a fix. A nil
// field means "not reported", which is different from zero.
type Readings struct {
	AccuracyM  *float64 `json:"accuracy_m,omitempty"`
	SpeedMPS   *float64 `json:"speed_mps,omitempty"`
	HeadingDeg *float64 `json:"heading_deg,omitempty"`
	AltitudeM  *float64 `json:"altitude_m,omitempty"`
	Battery    *float64 `json:"battery,omitempty"`
}

// Position is one fix of one person: where, when (device time) and what else
// the device measured.
type Position struct {
	Point
	RecordedAt time.Time
	Readings
}

// Validate checks what makes a position meaningless: coordinates out of range
// or not finite, no time, impossible readings. Suspicious but possible fixes
// (0,0, a clock in the future) are a Policy's call.
func (p Position) Validate() error {
	if err := p.Point.Validate(); err != nil {
		return err
	}
	if p.RecordedAt.IsZero() {
		return &FieldError{Field: "recorded_at", Reason: "is required"}
	}
	if p.RecordedAt.Year() < 2000 {
		return &FieldError{Field: "recorded_at", Reason: "is before the year 2000"}
	}
	return p.Readings.Validate()
}

// Validate checks that every reported reading is finite and physically
// plausible.
func (r Readings) Validate() error {
	checks := []struct {
		name     string
		v        *float64
		min, max float64
	}{
		{"accuracy_m", r.AccuracyM, 0, 1e7},
		{"speed_mps", r.SpeedMPS, 0, 1e4},
		{"heading_deg", r.HeadingDeg, 0, 360},
		{"altitude_m", r.AltitudeM, -1e5, 1e6},
		{"battery", r.Battery, 0, 1},
	}
	for _, c := range checks {
		if c.v == nil {
			continue
		}
		v := *c.v
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return &FieldError{Field: c.name, Reason: "must be a finite number"}
		}
		if v < c.min || v > c.max {
			return &FieldError{Field: c.name, Reason: fmt.Sprintf("%g is outside [%g, %g]", v, c.min, c.max)}
		}
	}
	return nil
}

// FieldError says which field of a position or query is wrong and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Reason }

// IsFieldError reports whether err is (or wraps) a FieldError.
func IsFieldError(err error) bool {
	var fe *FieldError
	return errors.As(err, &fe)
}
