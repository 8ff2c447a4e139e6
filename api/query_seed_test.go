package api_test

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// seeded is one person seedPeople inserted, as stored.
type seeded struct {
	id       int64
	lon, lat float64
	at       time.Time
}

// seedPeople inserts people with a live position straight into the table
// (thousands in one statement, no API round trips) and returns them as
// stored.
func (s *service) seedPeople(lons, lats []float64, ats []time.Time) []seeded {
	s.t.Helper()
	rows, err := s.connect().Query(context.Background(), `INSERT INTO person (name, token_hash, loc, recorded_at, version)
		SELECT 'seed ' || i, decode(md5($4 || '/' || i), 'hex'), ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, at, 1
		FROM unnest($1::float8[], $2::float8[], $3::timestamptz[]) WITH ORDINALITY AS u(lon, lat, at, i)
		RETURNING id, ST_X(loc::geometry), ST_Y(loc::geometry), recorded_at`,
		lons, lats, ats, strconv.FormatInt(time.Now().UnixNano(), 10))
	if err != nil {
		s.t.Fatal(err)
	}
	var out []seeded
	var p seeded
	if _, err := pgx.ForEachRow(rows, []any{&p.id, &p.lon, &p.lat, &p.at}, func() error {
		out = append(out, p)
		return nil
	}); err != nil {
		s.t.Fatal(err)
	}
	return out
}

// worldPoints returns n points spread evenly over the sphere, plus crowds
// where maps and formulas break: both poles, both sides of the antimeridian,
// the exact poles and ±180, and people sharing one spot (equal distances).
func worldPoints(rnd *rand.Rand, n int) (lons, lats []float64) {
	add := func(lon, lat float64) { lons, lats = append(lons, lon), append(lats, lat) }
	for range n {
		add(rnd.Float64()*360-180, math.Asin(2*rnd.Float64()-1)*180/math.Pi)
	}
	for range n / 6 {
		add(rnd.Float64()*360-180, 88.5+rnd.Float64()*1.5)
		add(rnd.Float64()*360-180, -88.5-rnd.Float64()*1.5)
		add(179+rnd.Float64(), rnd.Float64()*10-5)
		add(-179-rnd.Float64(), rnd.Float64()*10-5)
		add(4.8+rnd.Float64()*0.2, 52.3+rnd.Float64()*0.1)
	}
	for _, p := range [][2]float64{{180, 0}, {-180, 0}, {180, 3}, {-180, 3}, {0, 90}, {45, 90}, {-120, 90},
		{0, -90}, {170, -90}, {179.999, 0.001},
		{4.9, 52.37}, {4.9, 52.37}, {4.9, 52.37}, {-179.9, 1}, {-179.9, 1}} {
		add(p[0], p[1])
	}
	return lons, lats
}

// times returns n recorded_at values, each either recent (within the last
// hour) or old (30 to 40 hours ago): nothing near a 6 h or 1 d cutoff, so a
// second of clock drift between test and server cannot flip one.
func seedTimes(rnd *rand.Rand, n int, now time.Time) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		ago := time.Duration(rnd.Float64() * float64(time.Hour))
		if rnd.IntN(2) == 0 {
			ago += 30*time.Hour + time.Duration(rnd.Float64()*float64(10*time.Hour))
		}
		out[i] = now.Add(-ago).Truncate(time.Microsecond)
	}
	return out
}

// queryAnswer is a decoded FeatureCollection (or, for history lines, one
// Feature) as the tests read it.
type queryAnswer struct {
	Type       string         `json:"type"`
	Features   []queryFeature `json:"features"`
	NextCursor string         `json:"next_cursor"`
	Geometry   *queryGeometry `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type queryFeature struct {
	ID         int64          `json:"id"`
	Geometry   *queryGeometry `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type queryGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

func (r response) answer(t *testing.T) queryAnswer {
	t.Helper()
	var c queryAnswer
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &c); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return c
}

func (c queryAnswer) ids() []int64 {
	ids := make([]int64, len(c.Features))
	for i, f := range c.Features {
		ids[i] = f.ID
	}
	return ids
}
