package geo_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"whereabouts/geo"
)

func TestPositionValidation(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	f := func(v float64) *float64 { return &v }
	ok := geo.Position{Point: geo.Point{Lon: 4.89, Lat: 52.37}, RecordedAt: now}
	cases := []struct {
		name  string
		edit  func(*geo.Position)
		field string // "" means valid
	}{
		{"a plain fix", func(*geo.Position) {}, ""},
		{"the poles and the antimeridian", func(p *geo.Position) { p.Lat, p.Lon = -90, 180 }, ""},
		{"lat 91", func(p *geo.Position) { p.Lat = 91 }, "lat"},
		{"lon -181", func(p *geo.Position) { p.Lon = -181 }, "lon"},
		{"NaN lat", func(p *geo.Position) { p.Lat = math.NaN() }, "lat"},
		{"infinite lon", func(p *geo.Position) { p.Lon = math.Inf(1) }, "lon"},
		{"no time", func(p *geo.Position) { p.RecordedAt = time.Time{} }, "recorded_at"},
		{"1970", func(p *geo.Position) { p.RecordedAt = time.Unix(0, 0) }, "recorded_at"},
		{"battery 1.5", func(p *geo.Position) { p.Battery = f(1.5) }, "battery"},
		{"heading 361", func(p *geo.Position) { p.HeadingDeg = f(361) }, "heading_deg"},
		{"negative speed", func(p *geo.Position) { p.SpeedMPS = f(-1) }, "speed_mps"},
		{"NaN accuracy", func(p *geo.Position) { p.AccuracyM = f(math.NaN()) }, "accuracy_m"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := ok
			c.edit(&p)
			err := p.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !geo.IsFieldError(err) || !strings.HasPrefix(err.Error(), c.field+" ") {
				t.Fatalf("want a FieldError on %s, got %v", c.field, err)
			}
		})
	}
}

func TestPolicy(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	acc := 250.0
	fix := func(lat, lon float64, ahead time.Duration) geo.Position {
		return geo.Position{Point: geo.Point{Lon: lon, Lat: lat}, RecordedAt: now.Add(ahead), Readings: geo.Readings{AccuracyM: &acc}}
	}
	strict := geo.Policy{NullIsland: geo.Reject, Future: geo.Flag, Inaccurate: geo.Flag, MaxAccuracyM: 100}
	cases := []struct {
		name     string
		pol      geo.Policy
		p        geo.Position
		flag     string
		rejected bool
	}{
		{"default: an ordinary fix", geo.DefaultPolicy, fix(1, 1, 0), "", false},
		{"default: 0,0 is flagged", geo.DefaultPolicy, fix(0, 0, 0), "null_island", false},
		{"default: 4 minutes ahead is fine", geo.DefaultPolicy, fix(1, 1, 4*time.Minute), "", false},
		{"default: 6 minutes ahead is rejected", geo.DefaultPolicy, fix(1, 1, 6*time.Minute), "", true},
		{"default: a rejection wins over a flag", geo.DefaultPolicy, fix(0, 0, time.Hour), "", true},
		{"default: accuracy is not limited", geo.DefaultPolicy, fix(1, 1, 0), "", false},
		{"strict: 0,0 is rejected", strict, fix(0, 0, 0), "", true},
		{"strict: the future is flagged", strict, fix(1, 1, time.Hour), "future", false},
		{"strict: 250 m over a 100 m limit is flagged", strict, fix(1, 1, 0), "inaccurate", false},
		{"only one of lat, lon zero is fine", strict, fix(0, 1, -time.Hour), "inaccurate", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			flag, err := c.pol.Check(c.p, now)
			if (err != nil) != c.rejected || flag != c.flag {
				t.Fatalf("Check = %q, %v; want flag %q, rejected %v", flag, err, c.flag, c.rejected)
			}
		})
	}
}

func TestBBox(t *testing.T) {
	box, err := geo.ParseBBox("170,-10,-170,10")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    geo.Point
		want bool
	}{
		{geo.Point{Lon: 175, Lat: 0}, true},
		{geo.Point{Lon: -175, Lat: 0}, true},
		{geo.Point{Lon: 180, Lat: 10}, true},
		{geo.Point{Lon: 0, Lat: 0}, false},
		{geo.Point{Lon: 175, Lat: 11}, false},
	} {
		if got := box.Contains(c.p); got != c.want {
			t.Errorf("antimeridian box contains %v = %v", c.p, got)
		}
	}
	for _, bad := range []string{"1,2,3", "a,b,c,d", "0,10,1,5", "0,0,181,1", "0,-91,1,1"} {
		if _, err := geo.ParseBBox(bad); !geo.IsFieldError(err) {
			t.Errorf("ParseBBox(%q) = %v, want a FieldError", bad, err)
		}
	}
}

func TestDecodePersonFeature(t *testing.T) {
	ev, err := geo.DecodePersonFeature([]byte(`{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[4.5,52.1]},"properties":{"version":3,"recorded_at":"2026-01-02T03:04:05.678Z"}}`))
	if err != nil || ev.ID != 7 || ev.Version != 3 || ev.Point != (geo.Point{Lon: 4.5, Lat: 52.1}) || ev.RecordedAt.UnixMilli()%1000 != 678 {
		t.Fatalf("decoded %+v, %v", ev, err)
	}
	ev, err = geo.DecodePersonFeature([]byte(`{"type":"Feature","id":7,"geometry":null,"properties":{"deleted":true,"version":4}}`))
	if err != nil || !ev.Deleted || ev.Version != 4 {
		t.Fatalf("tombstone %+v, %v", ev, err)
	}
	for _, bad := range []string{`garbage`, `{"type":"Feature","id":"x","geometry":null,"properties":{"version":1}}`,
		`{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[500,0]},"properties":{"version":1}}`,
		`{"type":"Feature","id":1,"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]},"properties":{"version":1}}`,
		`{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[0,0]},"properties":{}}`} {
		if _, err := geo.DecodePersonFeature([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// A payload as the person_feature SQL function builds it.
var benchFeature = []byte(`{"type" : "Feature", "id" : 5, "geometry" : {"type" : "Point", "coordinates" : [4.831397468758549, 52.1904345741503]}, "properties" : {"name":"p5","device_id":"phone-5","recorded_at":"2026-11-28T19:03:56.130077Z","updated_at":"2026-11-28T19:03:56.130077Z","last_seen_at":"2026-11-28T19:03:56.130077Z","version":5,"accuracy_m":12.5,"battery":0.8}}`)

// The listener decodes every notification: at thousands of moves a second
// this is a visible share of the server's CPU.
func BenchmarkDecodePersonFeature(b *testing.B) {
	for b.Loop() {
		if _, err := geo.DecodePersonFeature(benchFeature); err != nil {
			b.Fatal(err)
		}
	}
}
