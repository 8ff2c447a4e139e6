package api_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"whereabouts/api"
)

func TestQueryParametersAreValidated(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	ada, _ := s.newPerson("Ada")
	s.call("PUT", path(ada, "/location"), adminToken, `{"lat":52.37,"lon":4.89}`)
	h := func(q string) string { return path(ada, "/history?"+q) }
	cursor := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
	const n = "/api/v1/people/nearby?"
	for _, c := range []struct {
		name, path, say string
	}{
		{"nearby without lat", n + "lon=4.89", "lat and lon are required"},
		{"nearby without lon", n + "lat=52", "lat and lon are required"},
		{"nearby with an empty lat", n + "lat=&lon=4.89", "lat and lon are required"},
		{"nearby at lat 91", n + "lat=91&lon=4.89", "lat 91 is outside"},
		{"nearby at lon -181", n + "lat=52&lon=-181", "lon -181 is outside"},
		{"nearby at lat abc", n + "lat=abc&lon=4.89", `lat must be a finite number, not "abc"`},
		{"nearby at lat NaN", n + "lat=NaN&lon=4.89", "lat must be a finite number"},
		{"nearby at lon Inf", n + "lat=1&lon=Inf", "lon must be a finite number"},
		{"a negative radius", n + "lat=52&lon=4&radius_m=-5", "radius_m must be greater than 0"},
		{"a zero radius", n + "lat=52&lon=4&radius_m=0", "radius_m must be greater than 0"},
		{"a radius above 20,000 km", n + "lat=52&lon=4&radius_m=20000000.5", "at most 20000000 (20,000 km)"},
		{"a radius of words", n + "lat=52&lon=4&radius_m=far", "radius_m must be a finite number"},
		{"limit 0", n + "lat=52&lon=4&limit=0", "limit must be an integer from 1 to 1000"},
		{"limit 5000", n + "lat=52&lon=4&limit=5000", "limit must be an integer from 1 to 1000"},
		{"limit 1.5", n + "lat=52&lon=4&limit=1.5", "limit must be an integer"},
		{"a malformed duration", n + "lat=52&lon=4&seen_within=5x", "seen_within must be a positive duration"},
		{"a duration without a unit", n + "lat=52&lon=4&seen_within=30", "seen_within must be a positive duration"},
		{"a negative duration", n + "lat=52&lon=4&seen_within=-5m", "seen_within must be a positive duration"},
		{"a zero duration", n + "lat=52&lon=4&seen_within=0s", "seen_within must be a positive duration"},
		{"a month", n + "lat=52&lon=4&seen_within=1mo", "seen_within must be a positive duration"},
		{"history from yesterday-ish", h("from=yesterday"), "from must be an RFC 3339 time or Unix seconds or milliseconds"},
		{"history to a date without a time", h("to=2026-03-01"), "to must be an RFC 3339 time"},
		{"history from a negative time", h("from=-5"), "from must be an RFC 3339 time"},
		{"history to the year 10000", h("to=253402300800000"), "to must be an RFC 3339 time"},
		{"history from after to", h("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z"), "from is after to"},
		{"history with limit 0", h("limit=0"), "limit must be an integer from 1 to 10000"},
		{"history with limit 10001", h("limit=10001"), "limit must be an integer from 1 to 10000"},
		{"history with a cursor of junk", h("cursor=%25%25"), "cursor is not one this server returned"},
		{"history with a cursor of another version", h("cursor=" + cursor("h0|1|2|3")), "cursor is not one"},
		{"history with a cursor missing a part", h("cursor=" + cursor("h1|1|2")), "cursor is not one"},
		{"history with a cursor at lon 200", h("cursor=" + cursor("h1|1772352000000000|200|3")), "cursor is not one"},
		{"history with a cursor at NaN", h("cursor=" + cursor("h1|1772352000000000|NaN|3")), "cursor is not one"},
		{"history in an unknown format", h("format=kml"), `format must be points or linestring, not "kml"`},
		{"history of id abc", "/api/v1/people/abc/history", "id must be a positive integer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.call("GET", c.path, adminToken, "")
			if r.status != http.StatusBadRequest || r.errorCode(t) != "invalid_parameter" || !strings.Contains(errorMessage(t, r), c.say) {
				t.Fatalf("%d %s, want 400 invalid_parameter saying %q", r.status, r.body, c.say)
			}
		})
	}
	for _, ok := range []string{
		n + "lat=90&lon=-180&limit=1000&radius_m=20000000&seen_within=7d",
		n + "lat=-90&lon=180&limit=1&radius_m=0.5&seen_within=1d12h",
		n + "lat=52&lon=4&seen_within=2w&radius_m=",
		h("from=0&to=1772352000.5"),
		h("from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z&limit=10000&format=points"),
	} {
		t.Run("accepts "+ok, func(t *testing.T) {
			if r := s.call("GET", ok, adminToken, ""); r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
}

func TestWithinBodiesAreValidated(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	var big strings.Builder
	big.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i := range 10_000 {
		fmt.Fprintf(&big, "[%d,%v],", i%100, float64(i)/200)
	}
	big.WriteString(`[0,0]]]}`)
	for _, c := range []struct {
		name, ctype, body string
		status            int
		code, say         string
	}{
		{"a ring that is not closed", "", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, 400, "invalid_geometry", "coordinates[0] is not closed"},
		{"a ring of three positions", "", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, 400, "invalid_geometry", "at least 4"},
		{"lat 91", "", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,91],[0,0]]]}`, 400, "invalid_geometry", "lat 91 is outside"},
		{"a Point", "", `{"type":"Point","coordinates":[0,0]}`, 400, "invalid_geometry", "Polygon"},
		{"a FeatureCollection", "", `{"type":"FeatureCollection","features":[]}`, 400, "invalid_geometry", "Polygon"},
		{"not JSON", "", `{"type":`, 400, "invalid_json", "not valid JSON"},
		{"a form", "application/x-www-form-urlencoded", `a=b`, 415, "unsupported_media_type", "not JSON"},
		{"10,001 positions", "", big.String(), 413, "body_too_large", "at most 10000 positions"},
		{"more than 1 MiB", "", `{"type":"Polygon","coordinates":[[` + strings.Repeat(" ", 1<<20) + `]]}`, 413, "body_too_large", "larger than"},
		{"a bow tie", "", `{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`, 422, "invalid_geometry", "Self-intersection"},
		{"overlapping parts", "", `{"type":"MultiPolygon","coordinates":[[[[0,0],[2,0],[2,2],[0,2],[0,0]]],[[[1,1],[3,1],[3,3],[1,3],[1,1]]]]}`, 422, "invalid_geometry", "not a valid polygon"},
		{"a hole outside its shell", "", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[5,5],[6,5],[6,6],[5,6],[5,5]]]}`, 422, "invalid_geometry", "Hole lies outside shell"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ct := c.ctype
			if ct == "" {
				ct = "application/geo+json"
			}
			r := s.do("POST", "/api/v1/people/within", adminToken, ct, []byte(c.body))
			if r.status != c.status || r.errorCode(t) != c.code || !strings.Contains(errorMessage(t, r), c.say) {
				t.Fatalf("%d %s, want %d %s saying %q", r.status, r.body, c.status, c.code, c.say)
			}
		})
	}
}

// errorMessage is error.message of an error answer.
func errorMessage(t *testing.T, r response) string {
	t.Helper()
	m, _ := r.json(t)["error"].(map[string]any)["message"].(string)
	return m
}
