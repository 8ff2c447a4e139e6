package api

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"whereabouts/geo"
)

// params reads query parameters for the query routes. Every mistake is a
// 400 invalid_parameter that names the parameter. An empty value counts as
// absent, as HTML forms send unfilled fields.
type params url.Values

func badParam(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf(format, args...))
}

func (p params) get(name string) string { return strings.TrimSpace(url.Values(p).Get(name)) }

// float reads a finite number; ok is false when the parameter is absent.
func (p params) float(name string) (v float64, ok bool, err error) {
	s := p.get(name)
	if s == "" {
		return 0, false, nil
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, badParam("%s must be a finite number, not %q", name, s)
	}
	return v, true, nil
}

// point reads the required lat and lon.
func (p params) point() (geo.Point, error) {
	lat, okLat, err := p.float("lat")
	if err != nil {
		return geo.Point{}, err
	}
	lon, okLon, err := p.float("lon")
	if err != nil {
		return geo.Point{}, err
	}
	if !okLat || !okLon {
		return geo.Point{}, badParam("lat and lon are required")
	}
	pt := geo.Point{Lon: lon, Lat: lat}
	if err := pt.Validate(); err != nil {
		return geo.Point{}, badParam("%v", err)
	}
	return pt, nil
}

// limit reads an integer in [1, max], def when absent.
func (p params) limit(def, max int) (int, error) {
	s := p.get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, badParam("limit must be an integer from 1 to %d, not %q", max, s)
	}
	return n, nil
}

// duration reads a positive duration in Go's syntax plus days and weeks
// (7d, 2w); zero when absent.
func (p params) duration(name string) (time.Duration, error) {
	s := p.get(name)
	if s == "" {
		return 0, nil
	}
	d, err := geo.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, badParam("%s must be a positive duration such as 30s, 5m, 2h or 7d, not %q", name, s)
	}
	return d, nil
}

// maxUnixMilli is 9999-12-31T23:59:59.999Z, the last instant RFC 3339 can
// write; larger numbers are mistakes, not dates.
const maxUnixMilli = 253402300799999

// time reads an RFC 3339 time or a Unix time in seconds or milliseconds, told
// apart by magnitude as the ingest routes do; zero when absent. A "+" that the
// query string turned into a space (an unencoded +02:00) is put back.
// Fractions of a microsecond round up, to the database's precision, so that
// [from, to) keeps its meaning.
func (p params) time(name string) (time.Time, error) {
	s := p.get(name)
	if s == "" {
		return time.Time{}, nil
	}
	bad := badParam("%s must be an RFC 3339 time or Unix seconds or milliseconds, not %q", name, s)
	var t time.Time
	if strings.Trim(s, "0123456789.") == "" {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n > maxUnixMilli {
			return time.Time{}, bad
		}
		if n > math.MaxInt32 {
			n /= 1000
		}
		sec, frac := math.Modf(n)
		t = time.Unix(int64(sec), int64(math.Round(frac*1e9)))
	} else {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, strings.ReplaceAll(s, " ", "+")); err != nil {
			return time.Time{}, bad
		}
	}
	if c := t.Truncate(time.Microsecond); !c.Equal(t) {
		t = c.Add(time.Microsecond)
	}
	return t.UTC(), nil
}
