package geo_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"whereabouts/geo"
)

const square = `[[0,0],[1,0],[1,1],[0,1],[0,0]]`

func TestParseAreaAccepts(t *testing.T) {
	cases := []struct {
		name, body string
		polygons   int
		bounds     geo.BBox // of the first polygon
	}{
		{"a Polygon", `{"type":"Polygon","coordinates":[` + square + `]}`, 1, geo.BBox{MaxLon: 1, MaxLat: 1}},
		{"a Polygon with a hole", `{"type":"Polygon","coordinates":[[[-2,-2],[2,-2],[2,2],[-2,2],[-2,-2]],[[-1,-1],[-1,1],[1,1],[1,-1],[-1,-1]]]}`, 1, geo.BBox{MinLon: -2, MinLat: -2, MaxLon: 2, MaxLat: 2}},
		{"a MultiPolygon cut at the antimeridian", `{"type":"MultiPolygon","coordinates":[[[[170,-10],[180,-10],[180,10],[170,10],[170,-10]]],[[[-180,-10],[-170,-10],[-170,10],[-180,10],[-180,-10]]]]}`, 2, geo.BBox{MinLon: 170, MinLat: -10, MaxLon: 180, MaxLat: 10}},
		{"a Feature wrapping a Polygon", `{"type":"Feature","properties":{"name":"depot"},"geometry":{"type":"Polygon","coordinates":[` + square + `]}}`, 1, geo.BBox{MaxLon: 1, MaxLat: 1}},
		{"a Polygon with altitudes", `{"type":"Polygon","coordinates":[[[0,0,5],[1,0,5],[1,1,5],[0,1,5],[0,0,5]]]}`, 1, geo.BBox{MaxLon: 1, MaxLat: 1}},
		{"the whole world", `{"type":"Polygon","coordinates":[[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]]}`, 1, geo.BBox{MinLon: -180, MinLat: -90, MaxLon: 180, MaxLat: 90}},
		{"exactly the vertex limit", ring(geo.MaxAreaVertices), 1, geo.BBox{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := geo.ParseArea([]byte(c.body))
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			mp := a.MultiPolygon()
			if mp.NumPolygons() != c.polygons || mp.SRID() != 4326 || mp.Stride() != 2 {
				t.Fatalf("got %d polygons, srid %d, stride %d", mp.NumPolygons(), mp.SRID(), mp.Stride())
			}
			if got := a.Bounds(); len(got) != c.polygons || (c.bounds != geo.BBox{} && got[0] != c.bounds) {
				t.Fatalf("bounds %v, want %v first", got, c.bounds)
			}
		})
	}
}

func TestParseAreaRefuses(t *testing.T) {
	cases := []struct{ name, body, reason string }{
		{"a ring that is not closed", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, "coordinates[0] is not closed"},
		{"a ring of three positions", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, "coordinates[0] has 3 positions"},
		{"an unclosed hole", `{"type":"Polygon","coordinates":[` + square + `,[[0.2,0.2],[0.4,0.2],[0.4,0.4],[0.2,0.2],[0.3,0.3]]]}`, "coordinates[1] is not closed"},
		{"lat 91", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,91],[0,0]]]}`, "coordinates[0][2]: lat 91"},
		{"lon -181 in a MultiPolygon", `{"type":"MultiPolygon","coordinates":[[` + square + `],[[[0,0],[-181,0],[0,1],[0,0]]]]}`, "coordinates[1][0][1]: lon -181"},
		{"a Polygon without rings", `{"type":"Polygon","coordinates":[]}`, "coordinates has no rings"},
		{"a MultiPolygon without polygons", `{"type":"MultiPolygon","coordinates":[]}`, "no polygons"},
		{"a Point", `{"type":"Point","coordinates":[0,0]}`, `type "Point" is not accepted`},
		{"a FeatureCollection", `{"type":"FeatureCollection","features":[]}`, `type "FeatureCollection"`},
		{"a Feature with a LineString", `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}`, "must be a Polygon or a MultiPolygon"},
		{"a Feature without geometry", `{"type":"Feature","geometry":null,"properties":{}}`, "no geometry"},
		{"an array", `[1,2]`, "GeoJSON object"},
		{"mixed dimensions", `{"type":"Polygon","coordinates":[[[0,0],[1,0,3],[1,1],[0,0]]]}`, "not valid GeoJSON"},
		{"a one-number position", `{"type":"Polygon","coordinates":[[[0],[1,0],[1,1],[0]]]}`, "not valid GeoJSON"},
		{"coordinates that are strings", `{"type":"Polygon","coordinates":[[["0","0"]]]}`, "not valid GeoJSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := geo.ParseArea([]byte(c.body))
			var ge *geo.GeometryError
			if !errors.As(err, &ge) || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("got %v, want a GeometryError saying %q", err, c.reason)
			}
		})
	}
	t.Run("one vertex over the limit", func(t *testing.T) {
		_, err := geo.ParseArea([]byte(ring(geo.MaxAreaVertices + 1)))
		if !errors.Is(err, geo.ErrTooManyVertices) {
			t.Fatalf("got %v, want ErrTooManyVertices", err)
		}
	})
}

// ring is a Polygon body whose one ring, a circle, has n positions in all.
func ring(n int) string {
	var b strings.Builder
	b.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i := range n - 1 {
		a := 2 * math.Pi * float64(i) / float64(n-1)
		fmt.Fprintf(&b, "[%g,%g],", 10*math.Cos(a), 10*math.Sin(a))
	}
	b.WriteString(`[10,0]]]}`)
	return b.String()
}
