package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"whereabouts/geo"
)

// haversine is the great-circle distance in metres, independent of the
// simulator's flat-earth maths so the test checks the points it would send.
func haversine(a, b geo.Point) float64 {
	rad := math.Pi / 180
	dLat, dLon := (b.Lat-a.Lat)*rad, (b.Lon-a.Lon)*rad
	h := math.Pow(math.Sin(dLat/2), 2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Pow(math.Sin(dLon/2), 2)
	return 2 * earthRadius * math.Asin(math.Sqrt(h))
}

func TestMoverStaysPlausibleOver10000Steps(t *testing.T) {
	cases := []struct {
		name     string
		center   geo.Point
		radius   float64
		dt       float64
		distance bool // check the geodesic distance (the flat maths is only near-exact away from the poles)
	}{
		{"walks around Amsterdam within 3 km", geo.Point{Lon: 4.8952, Lat: 52.3702}, 3000, 1, true},
		{"stays in a 50 m yard even with long steps", geo.Point{Lon: -122.41, Lat: 37.77}, 50, 10, true},
		{"wraps longitude across the antimeridian", geo.Point{Lon: 179.999, Lat: -17.7}, 3000, 1, true},
		{"keeps latitude valid next to the pole", geo.Point{Lon: 0, Lat: 89.99}, 3000, 5, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(20) {
				rng := rand.New(rand.NewPCG(seed, 42))
				m := newMover(rng, tc.radius)
				lo, hi := m.minSpeed, m.maxSpeed
				if !inClass(lo, hi) {
					t.Fatalf("seed %d: speed class [%g, %g] is not walker, cyclist or van", seed, lo, hi)
				}
				checkWalk(t, seed, m, rng, tc.center, tc.radius, tc.dt, tc.distance)
			}
		})
	}
}

// inClass reports whether [lo, hi] is one of the three speed classes.
func inClass(lo, hi float64) bool {
	return (lo == 1 && hi == 2) || (lo == 4 && hi == 6) || (lo == 8 && hi == 14)
}

// checkWalk steps m 10,000 times and checks every step against the rules.
func checkWalk(t *testing.T, seed uint64, m *mover, rng *rand.Rand, center geo.Point, radius, dt float64, distance bool) {
	t.Helper()
	lo, hi, battery := m.minSpeed, m.maxSpeed, m.battery
	if battery < 0 || battery > 1 {
		t.Fatalf("seed %d: initial battery %g outside [0, 1]", seed, battery)
	}
	for i := range 10_000 {
		m.step(rng, dt, radius)
		p := m.point(center)
		if err := p.Validate(); err != nil {
			t.Fatalf("seed %d step %d: invalid point %+v: %v", seed, i, p, err)
		}
		if d := haversine(center, p); distance && d > radius*1.001+1e-6 {
			t.Fatalf("seed %d step %d: %.2f m from the centre, radius %g", seed, i, d, radius)
		}
		if r := math.Hypot(m.x, m.y); r > radius*(1+1e-9) {
			t.Fatalf("seed %d step %d: offset %.2f m beyond radius %g", seed, i, r, radius)
		}
		if m.speed < lo || m.speed > hi {
			t.Fatalf("seed %d step %d: speed %g outside its class [%g, %g]", seed, i, m.speed, lo, hi)
		}
		if m.heading < 0 || m.heading >= 360 || math.IsNaN(m.heading) {
			t.Fatalf("seed %d step %d: heading %g outside [0, 360)", seed, i, m.heading)
		}
		if m.battery > battery || m.battery < 0 || m.battery > 1 {
			t.Fatalf("seed %d step %d: battery went from %g to %g", seed, i, battery, m.battery)
		}
		battery = m.battery
	}
}

func TestMoverTurnsGradually(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	m := newMover(rng, 3000)
	m.x, m.y = 0, 0 // far from the edge: no steering back
	var big int
	for range 1000 {
		before := m.heading
		m.step(rng, 1, 1e9)
		if turn := math.Abs(compass(m.heading-before+180) - 180); turn > 45 {
			big++
		}
	}
	if big > 5 { // a normal turn of sigma 8 degrees beyond 45 is rarer than 1 in 10^7
		t.Errorf("%d of 1000 steps turned more than 45 degrees", big)
	}
}

func TestMoverUsesEveryClass(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[float64]bool{}
	for range 200 {
		seen[newMover(rng, 3000).minSpeed] = true
	}
	for _, lo := range []float64{1, 4, 8} {
		if !seen[lo] {
			t.Errorf("no mover with minimum speed %g in 200 draws", lo)
		}
	}
}

func TestParseLatLon(t *testing.T) {
	p, err := parseLatLon("52.3702, 4.8952")
	if err != nil || p != (geo.Point{Lon: 4.8952, Lat: 52.3702}) {
		t.Fatalf("parseLatLon = %+v, %v", p, err)
	}
	for _, bad := range []string{"", "52.37", "x,4", "91,4", "52,181", "NaN,4"} {
		if _, err := parseLatLon(bad); err == nil {
			t.Errorf("parseLatLon(%q) accepted", bad)
		}
	}
}

// fakeServer answers the four calls the simulator makes, like the real API.
type fakeServer struct {
	mu      sync.Mutex
	deleted []string
	created []string
	moves   map[string]int // device token -> accepted moves
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	auth := r.Header.Get("Authorization")
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/v1/people" && auth == "Bearer admin":
		io.WriteString(w, `{"type":"FeatureCollection","features":[
			{"type":"Feature","id":7,"properties":{"device_id":"sim-3"}},
			{"type":"Feature","id":8,"properties":{"device_id":"phone-of-ada"}},
			{"type":"Feature","id":9,"properties":{}}]}`)
	case r.Method == "DELETE" && auth == "Bearer admin":
		f.deleted = append(f.deleted, r.PathValue("id"))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == "POST" && auth == "Bearer admin":
		var in struct {
			Name     string `json:"name"`
			DeviceID string `json:"device_id"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		if in.Name == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.created = append(f.created, in.DeviceID)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d,"token":"dev-%d"}`, len(f.created), len(f.created))
	case r.Method == "PUT" && auth == "Bearer dev-"+r.PathValue("id"):
		var p geo.Point
		if json.NewDecoder(r.Body).Decode(&p) != nil || p.Validate() != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.moves[auth]++
	default:
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"error":{"code":"forbidden","message":"not yours"}}`)
	}
}

func TestRunSimulatorAgainstAFakeServer(t *testing.T) {
	f := &fakeServer{moves: map[string]int{}}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/people", f)
	mux.Handle("/api/v1/people/{id}", f)
	mux.Handle("/api/v1/people/{id}/location", f)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	defer cancel()
	cfg := simConfig{BaseURL: srv.URL + "/", Token: "admin", People: 3, Interval: 20 * time.Millisecond, Seed: 1}
	if err := runSimulator(ctx, cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("runSimulator: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Equal(f.deleted, []string{"7"}) {
		t.Errorf("deleted %v, want only the old sim person 7", f.deleted)
	}
	if !slices.Equal(f.created, []string{"sim-1", "sim-2", "sim-3"}) {
		t.Errorf("created %v", f.created)
	}
	for i := 1; i <= 3; i++ {
		if n := f.moves[fmt.Sprintf("Bearer dev-%d", i)]; n < 3 {
			t.Errorf("person %d moved %d times with its own token, want several", i, n)
		}
	}
}

func TestRunSimulatorReportsTheAPIError(t *testing.T) {
	srv := httptest.NewServer(&fakeServer{moves: map[string]int{}})
	defer srv.Close()
	err := runSimulator(t.Context(), simConfig{BaseURL: srv.URL, Token: "wrong"}, nil)
	if err == nil || !strings.Contains(err.Error(), "forbidden: not yours") {
		t.Fatalf("err = %v, want the API's code and message", err)
	}
}

func TestSimulateCommandFlags(t *testing.T) {
	env := func(token string) func(string) string {
		return func(k string) string {
			if k == "WHEREABOUTS_ADMIN_TOKEN" {
				return token
			}
			return ""
		}
	}
	var out strings.Builder
	if err := simulateCommand(t.Context(), []string{"-h"}, env("s3cret"), &out); err != nil {
		t.Fatalf("-h: %v", err)
	}
	if !strings.Contains(out.String(), "-people") || strings.Contains(out.String(), "s3cret") {
		t.Errorf("-h printed %q: want the flags and never the token", out.String())
	}
	for _, args := range [][]string{{}, {"-center", "52.37"}, {"-token", "x", "extra"}} {
		if err := simulateCommand(t.Context(), args, env(""), io.Discard); err == nil {
			t.Errorf("simulate %q: no error", args)
		}
	}
}
