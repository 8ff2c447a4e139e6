package api_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"whereabouts/api"
)

// vincenty is the WGS 84 geodesic distance by Vincenty's inverse formula
// (sub-millimetre where it converges, which is everywhere but nearly
// antipodal pairs): a reference written independently of PostGIS.
func vincenty(lon1, lat1, lon2, lat2 float64) (float64, bool) {
	const a, f = 6378137.0, 1 / 298.257223563
	b, rad := a*(1-f), math.Pi/180
	l := math.Remainder((lon2-lon1)*rad, 2*math.Pi)
	sinU1, cosU1 := math.Sincos(math.Atan((1 - f) * math.Tan(lat1*rad)))
	sinU2, cosU2 := math.Sincos(math.Atan((1 - f) * math.Tan(lat2*rad)))
	lambda := l
	for range 1000 {
		sinL, cosL := math.Sincos(lambda)
		sinSigma := math.Hypot(cosU2*sinL, cosU1*sinU2-sinU1*cosU2*cosL)
		if sinSigma == 0 {
			return 0, true
		}
		cosSigma := sinU1*sinU2 + cosU1*cosU2*cosL
		sigma := math.Atan2(sinSigma, cosSigma)
		sinAlpha := cosU1 * cosU2 * sinL / sinSigma
		cos2Alpha := 1 - sinAlpha*sinAlpha
		cos2SM := 0.0
		if cos2Alpha != 0 {
			cos2SM = cosSigma - 2*sinU1*sinU2/cos2Alpha
		}
		c := f / 16 * cos2Alpha * (4 + f*(4-3*cos2Alpha))
		prev := lambda
		lambda = l + (1-c)*f*sinAlpha*(sigma+c*sinSigma*(cos2SM+c*cosSigma*(-1+2*cos2SM*cos2SM)))
		if math.Abs(lambda-prev) < 1e-13 {
			u2 := cos2Alpha * (a*a - b*b) / (b * b)
			bigA := 1 + u2/16384*(4096+u2*(-768+u2*(320-175*u2)))
			bigB := u2 / 1024 * (256 + u2*(-128+u2*(74-47*u2)))
			dSigma := bigB * sinSigma * (cos2SM + bigB/4*(cosSigma*(-1+2*cos2SM*cos2SM)-
				bigB/6*cos2SM*(-3+4*sinSigma*sinSigma)*(-3+4*cos2SM*cos2SM)))
			return b * bigA * (sigma - dSigma), true
		}
	}
	return 0, false
}

func TestVincentyReference(t *testing.T) {
	// One degree along the equator is a·π/180; one degree of latitude there
	// is the textbook 110,574.389 m.
	for _, c := range []struct{ lon1, lat1, lon2, lat2, want float64 }{
		{0, 0, 1, 0, 6378137 * math.Pi / 180},
		{0, 0, 0, 1, 110574.3886},
		{179.5, 0, -179.5, 0, 6378137 * math.Pi / 180},
	} {
		got, ok := vincenty(c.lon1, c.lat1, c.lon2, c.lat2)
		if !ok || math.Abs(got-c.want) > 1e-3 {
			t.Errorf("vincenty(%v) = %v, %v; want %v", c, got, ok, c.want)
		}
	}
}

type nearbyHit struct {
	id int64
	d  float64
}

// referenceNearby is the brute-force answer: every seeded person that passes
// keep, by Vincenty distance, nearest first.
func referenceNearby(t *testing.T, people []seeded, lon, lat float64, keep func(seeded, float64) bool) []nearbyHit {
	t.Helper()
	var ref []nearbyHit
	for _, p := range people {
		d, ok := vincenty(lon, lat, p.lon, p.lat)
		if !ok {
			d = math.Inf(1) // nearly antipodal: never among the nearest asked for here
		}
		if keep(p, d) {
			ref = append(ref, nearbyHit{p.id, d})
		}
	}
	slices.SortFunc(ref, func(a, b nearbyHit) int { return cmp.Compare(a.d, b.d) })
	return ref
}

// checkNearby compares an answer with the brute-force reference: the same
// distances rank by rank (to the centimetre), each person's own distance
// right, no one twice. Equal distances may come in any order, so ids are
// compared through their distances.
func checkNearby(t *testing.T, got []queryFeature, ref []nearbyHit, limit int, own map[int64]float64) {
	t.Helper()
	want := ref[:min(limit, len(ref))]
	if len(got) != len(want) {
		t.Fatalf("got %d people, want %d", len(got), len(want))
	}
	seen := map[int64]bool{}
	for i, f := range got {
		d, ok := f.Properties["distance_m"].(float64)
		if !ok || math.IsInf(want[i].d, 1) {
			t.Fatalf("rank %d: distance_m %v, reference %v", i, f.Properties["distance_m"], want[i].d)
		}
		if math.Abs(d-want[i].d) >= 0.01 || math.Abs(d-own[f.ID]) >= 0.01 {
			t.Fatalf("rank %d: person %d at %.4f m; reference rank %d is %d at %.4f m, own %.4f m",
				i, f.ID, d, i, want[i].id, want[i].d, own[f.ID])
		}
		if i > 0 && d < got[i-1].Properties["distance_m"].(float64) || seen[f.ID] {
			t.Fatalf("rank %d: person %d out of order or repeated", i, f.ID)
		}
		seen[f.ID] = true
	}
}

func TestNearbyMatchesABruteForceGeodesic(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	rnd := rand.New(rand.NewPCG(7, 11))
	now := time.Now()
	lons, lats := worldPoints(rnd, 1800)
	people := s.seedPeople(lons, lats, seedTimes(rnd, len(lons), now))
	s.newPerson("no position yet") // never listed
	for _, c := range []struct {
		lat, lon float64
		limit    int
		radius   float64 // 0: none
		seen     string
		since    time.Duration
	}{
		{lat: 52.37, lon: 4.89, limit: 10},
		{lat: 52.37, lon: 4.9, limit: 3}, // three people on this very spot: all at 0 m
		{lat: 52.37, lon: 4.89, limit: 100, radius: 5000},
		{lat: 90, lon: 0, limit: 25},   // people at the pole under three longitudes
		{lat: -90, lon: 33, limit: 25}, // and at the south pole under two
		{lat: 3, lon: -180, limit: 10}, // people at 180 and -180
		{lat: 89.95, lon: 45, limit: 60},
		{lat: -89.99, lon: -120, limit: 40},
		{lat: 0, lon: 180, limit: 50},
		{lat: 0.5, lon: -179.99, limit: 80},
		{lat: -2, lon: 179.5, limit: 30, radius: 300e3},
		{lat: 0, lon: 0, limit: 1000},
		{lat: 10, lon: 100, limit: 5, radius: 1},
		{lat: 52.37, lon: 4.89, limit: 20, seen: "6h", since: 6 * time.Hour},
		{lat: 0, lon: 179.9, limit: 30, seen: "1d", since: 24 * time.Hour},
		{lat: -45, lon: 170, limit: 15, seen: "2d", since: 48 * time.Hour, radius: 2e7},
	} {
		name := fmt.Sprintf("%d nearest to %v,%v radius %v seen within %q", c.limit, c.lat, c.lon, c.radius, c.seen)
		t.Run(name, func(t *testing.T) {
			q := url.Values{"lat": {fmt.Sprint(c.lat)}, "lon": {fmt.Sprint(c.lon)}, "limit": {fmt.Sprint(c.limit)}}
			if c.radius > 0 {
				q.Set("radius_m", fmt.Sprint(c.radius))
			}
			if c.seen != "" {
				q.Set("seen_within", c.seen)
			}
			got := s.call("GET", "/api/v1/people/nearby?"+q.Encode(), adminToken, "").answer(t)
			own := map[int64]float64{}
			ref := referenceNearby(t, people, c.lon, c.lat, func(p seeded, d float64) bool {
				own[p.id] = d
				return (c.radius == 0 || d <= c.radius) && (c.since == 0 || p.at.After(now.Add(-c.since)))
			})
			checkNearby(t, got.Features, ref, c.limit, own)
		})
	}
}

var distanceMember = regexp.MustCompile(`,"distance_m":[0-9.e+-]+`)

func TestNearbyFeaturesAreThePeopleFeatures(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: false})
	ada, adaTok := s.newPerson("Ada")
	bob, _ := s.newPerson("Bob")
	s.call("PUT", path(ada, "/location"), adminToken, `{"lat":52.37,"lon":4.89,"accuracy_m":5,"battery":0.5}`)
	s.call("PUT", path(bob, "/location"), adminToken, `{"lat":52.371,"lon":4.891}`)

	all := s.call("GET", "/api/v1/people/nearby?lat=52.3711&lon=4.8911", adminToken, "")
	if ids := all.answer(t).ids(); !slices.Equal(ids, []int64{bob, ada}) {
		t.Fatalf("admin sees %v, want bob then ada: %s", ids, all.body)
	}
	if n := len(distanceMember.FindAll(all.body, -1)); n != 2 {
		t.Fatalf("%d distance_m members in %s, want 2", n, all.body)
	}
	for _, id := range []int64{bob, ada} {
		one := s.call("GET", path(id, ""), adminToken, "").body
		if !regexp.MustCompile(regexp.QuoteMeta(string(one[:len(one)-2])) + `,"distance_m":[0-9.]+\}\}`).Match(all.body) {
			t.Fatalf("nearby does not carry %s byte for byte: %s", one, all.body)
		}
	}
	// A device that may not see others finds only itself, however close Bob is.
	if ids := s.call("GET", "/api/v1/people/nearby?lat=52.3711&lon=4.8911", adaTok, "").answer(t).ids(); !slices.Equal(ids, []int64{ada}) {
		t.Fatalf("device sees %v, want only itself", ids)
	}
}
