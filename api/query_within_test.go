package api_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"whereabouts/api"
	"whereabouts/geo"
)

// areaPeople seeds people over the globe plus some exactly on the edges and
// corners of the shapes the tests use.
func areaPeople(s *service) []seeded {
	rnd := rand.New(rand.NewPCG(3, 5))
	lons, lats := worldPoints(rnd, 1500)
	for _, p := range [][2]float64{
		{10, 10}, {15, 10}, {20, 15}, {12, 20}, {20, 20}, // the 10..20 box: corners and edges
		{180, 5}, {-180, 5}, {175, 0}, {-175, 0}, {170, -10}, {-170, 10}, // the antimeridian box
		{100, 80}, {-100, 80}, {0, 89.999}, // the polar cap's edge
		{0, 0}, {1, 1}, {-1, -1}, // the donut's hole and ring
		{0, 10.2}, {0, 19.9}, // inside a wide box, outside the great circles through its corners
	} {
		lons, lats = append(lons, p[0]), append(lats, p[1])
	}
	return s.seedPeople(lons, lats, seedTimes(rnd, len(lons), time.Now()))
}

// coveredBy is the reference: the ids of the seeded people that PostGIS's
// ST_Covers puts in the shape, computed over the seeded coordinates alone
// (no person table, no index, no Go parsing: ST_GeomFromGeoJSON reads it).
func coveredBy(t *testing.T, s *service, people []seeded, geometry string) []int64 {
	t.Helper()
	ids, lons, lats := make([]int64, len(people)), make([]float64, len(people)), make([]float64, len(people))
	for i, p := range people {
		ids[i], lons[i], lats[i] = p.id, p.lon, p.lat
	}
	var in []int64
	err := s.connect().QueryRow(context.Background(), `SELECT coalesce(array_agg(i ORDER BY i), '{}')
		FROM unnest($2::bigint[], $3::float8[], $4::float8[]) AS u(i, lon, lat)
		WHERE ST_Covers(ST_GeomFromGeoJSON($1), ST_SetSRID(ST_MakePoint(lon, lat), 4326))`,
		geometry, ids, lons, lats).Scan(&in)
	if err != nil {
		t.Fatalf("reference for %s: %v", geometry, err)
	}
	return in
}

// ring writes a closed GeoJSON ring.
func ringJSON(pts [][2]float64) string {
	parts := make([]string, 0, len(pts)+1)
	for _, p := range append(pts, pts[0]) {
		parts = append(parts, fmt.Sprintf("[%v,%v]", p[0], p[1]))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func polygonJSON(rings ...[][2]float64) string {
	parts := make([]string, len(rings))
	for i, r := range rings {
		parts[i] = ringJSON(r)
	}
	return `{"type":"Polygon","coordinates":[` + strings.Join(parts, ",") + `]}`
}

func box(minLon, minLat, maxLon, maxLat float64) [][2]float64 {
	return [][2]float64{{minLon, minLat}, {maxLon, minLat}, {maxLon, maxLat}, {minLon, maxLat}}
}

// star is a random simple polygon: vertices at sorted angles around a
// centre, so no two edges cross.
func star(rnd *rand.Rand) [][2]float64 {
	cx, cy, r := rnd.Float64()*300-150, rnd.Float64()*120-60, 1+rnd.Float64()*25
	n := 3 + rnd.IntN(30)
	angles := make([]float64, n)
	for i := range angles {
		angles[i] = rnd.Float64() * 2 * math.Pi
	}
	slices.Sort(angles)
	pts := make([][2]float64, n)
	for i, a := range angles {
		d := r * (0.3 + 0.7*rnd.Float64())
		pts[i] = [2]float64{cx + d*math.Cos(a), cy + d*math.Sin(a)}
	}
	return pts
}

func TestWithinMatchesSTCovers(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	people := areaPeople(s)
	rnd := rand.New(rand.NewPCG(17, 19))
	shapes := map[string]string{
		"a box, edges and corners included": polygonJSON(box(10, 10, 20, 20)),
		"a box cut at the antimeridian": `{"type":"MultiPolygon","coordinates":[[` + ringJSON(box(170, -10, 180, 10)) +
			`],[` + ringJSON(box(-180, -10, -170, 10)) + `]]}`,
		"an uncut ring across the antimeridian, which is planar: the long way round": polygonJSON(box(170, -10, -170, 10)),
		"a polar cap": polygonJSON(box(-180, 80, 180, 90)),
		"a wide box, whose edges are parallels, not great circles": polygonJSON(box(-60, 10, 60, 20)),
		"a donut":              polygonJSON(box(-5, -5, 5, 5), box(-0.5, -0.5, 0.5, 0.5)),
		"the whole world":      polygonJSON(box(-180, -90, 180, 90)),
		"two stars":            `{"type":"MultiPolygon","coordinates":[[` + ringJSON(star(rnd)) + `],[` + ringJSON(star(rnd)) + `]]}`,
		"a box with altitudes": `{"type":"Polygon","coordinates":[[[10,10,5],[20,10,5],[20,20,5],[10,20,5],[10,10,5]]]}`,
	}
	for i := range 25 {
		shapes[fmt.Sprintf("random star %d", i)] = polygonJSON(star(rnd))
	}
	for name, geometry := range shapes {
		t.Run(name, func(t *testing.T) {
			want := coveredBy(t, s, people, geometry)
			for _, body := range []string{geometry, `{"type":"Feature","properties":{},"geometry":` + geometry + `}`} {
				got := s.call("POST", "/api/v1/people/within", adminToken, body).answer(t).ids()
				if !slices.Equal(got, want) {
					t.Fatalf("within %s:\n got %d people %v\nwant %d people %v", body, len(got), got, len(want), want)
				}
			}
		})
	}
}

// boxReference is what GET /people?bbox= must answer: ST_Covers of the
// envelope (two envelopes across the antimeridian), checked against
// geo.BBox.Contains as well.
func boxReference(t *testing.T, s *service, people []seeded, b geo.BBox) []int64 {
	t.Helper()
	shape := polygonJSON(box(b.MinLon, b.MinLat, b.MaxLon, b.MaxLat))
	if b.CrossesAntimeridian() {
		shape = `{"type":"MultiPolygon","coordinates":[[` + ringJSON(box(b.MinLon, b.MinLat, 180, b.MaxLat)) +
			`],[` + ringJSON(box(-180, b.MinLat, b.MaxLon, b.MaxLat)) + `]]}`
	}
	want := coveredBy(t, s, people, shape)
	var contained []int64
	for _, p := range people {
		if b.Contains(geo.Point{Lon: p.lon, Lat: p.lat}) {
			contained = append(contained, p.id)
		}
	}
	if !slices.Equal(contained, want) && (len(contained) > 0 || len(want) > 0) {
		t.Fatalf("box %+v: geo.BBox.Contains says %v, ST_Covers %v", b, contained, want)
	}
	return want
}

func TestBBoxMatchesSTCoversAcrossTheAntimeridian(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	people := areaPeople(s)
	rnd := rand.New(rand.NewPCG(23, 29))
	boxes := []geo.BBox{
		{MinLon: 10, MinLat: 10, MaxLon: 20, MaxLat: 20},
		{MinLon: 170, MinLat: -10, MaxLon: -170, MaxLat: 10},
		{MinLon: 179, MinLat: -5, MaxLon: -179, MaxLat: 5},
		{MinLon: -180, MinLat: -90, MaxLon: 180, MaxLat: 90},
		{MinLon: -180, MinLat: 80, MaxLon: 180, MaxLat: 90},
	}
	for i := range 30 {
		lat := rnd.Float64()*160 - 80
		b := geo.BBox{MinLon: rnd.Float64()*360 - 180, MinLat: lat, MaxLat: min(90, lat+rnd.Float64()*30)}
		b.MaxLon = b.MinLon + rnd.Float64()*60
		if i%3 == 0 { // across the antimeridian
			b.MinLon = 180 - rnd.Float64()*30
			b.MaxLon = -180 + rnd.Float64()*30
		}
		b.MaxLon = min(180, b.MaxLon)
		boxes = append(boxes, b)
	}
	for _, b := range boxes {
		q := fmt.Sprintf("%v,%v,%v,%v", b.MinLon, b.MinLat, b.MaxLon, b.MaxLat)
		t.Run(q, func(t *testing.T) {
			want := boxReference(t, s, people, b)
			got := s.call("GET", "/api/v1/people?bbox="+q, adminToken, "").answer(t).ids()
			if !slices.Equal(got, want) {
				t.Fatalf("bbox %s:\n got %v\nwant %v", q, got, want)
			}
		})
	}
}

func TestWithinShowsADeviceOnlyItself(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: false})
	ada, adaTok := s.newPerson("Ada")
	bob, _ := s.newPerson("Bob")
	s.call("PUT", path(ada, "/location"), adminToken, `{"lat":15,"lon":15}`)
	s.call("PUT", path(bob, "/location"), adminToken, `{"lat":16,"lon":16}`)
	area := polygonJSON(box(10, 10, 20, 20))
	if got := s.call("POST", "/api/v1/people/within", adminToken, area).answer(t).ids(); !slices.Equal(got, []int64{ada, bob}) {
		t.Fatalf("admin sees %v", got)
	}
	if got := s.call("POST", "/api/v1/people/within", adaTok, area).answer(t).ids(); !slices.Equal(got, []int64{ada}) {
		t.Fatalf("device sees %v, want only itself", got)
	}
}
