package api_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"testing"
	"time"
)

// histFix is one history row as the tests write and expect it.
type histFix struct {
	at       time.Time
	lon, lat float64
	battery  *float64
	flag     *string
}

func (f histFix) key() string {
	return fmt.Sprintf("%s %v %v", f.at.UTC().Format(time.RFC3339Nano), f.lon, f.lat)
}

// seedHistory writes fixes straight into location_history and returns them
// in the order the API must page them: recorded_at, then lon, then lat.
func (s *service) seedHistory(id int64, fixes []histFix) []histFix {
	s.t.Helper()
	var ats []time.Time
	var lons, lats []float64
	var bats []*float64
	var flags []*string
	for _, f := range fixes {
		ats, lons, lats = append(ats, f.at), append(lons, f.lon), append(lats, f.lat)
		bats, flags = append(bats, f.battery), append(flags, f.flag)
	}
	_, err := s.connect().Exec(context.Background(), `INSERT INTO location_history (person_id, loc, recorded_at, battery, flag)
		SELECT $1, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, at, bat, flag
		FROM unnest($2::timestamptz[], $3::float8[], $4::float8[], $5::float8[], $6::text[]) AS u(at, lon, lat, bat, flag)`,
		id, ats, lons, lats, bats, flags)
	if err != nil {
		s.t.Fatal(err)
	}
	sorted := slices.Clone(fixes)
	slices.SortFunc(sorted, func(a, b histFix) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.lon, b.lon), cmp.Compare(a.lat, b.lat))
	})
	return sorted
}

// track is 200 fixes 10 s apart, plus 57 more at times already taken
// (phones batch several fixes per second), some with a battery and a flag.
func track(rnd *rand.Rand, t0 time.Time) []histFix {
	var fixes []histFix
	for i := range 200 {
		f := histFix{at: t0.Add(time.Duration(i) * 10 * time.Second), lon: 4.8 + rnd.Float64()/10, lat: 52.3 + rnd.Float64()/10}
		if i%25 == 0 {
			b, flag := 0.5, "inaccurate"
			f.battery, f.flag = &b, &flag
		}
		fixes = append(fixes, f)
	}
	for i := range 57 {
		fixes = append(fixes, histFix{at: t0.Add(time.Duration(i*3) * 10 * time.Second), lon: 4.8 + rnd.Float64()/10, lat: 52.3})
	}
	return fixes
}

// readFix turns a Point Feature of the answer back into a histFix.
func readFix(t *testing.T, f queryFeature) histFix {
	t.Helper()
	var c [2]float64
	if f.Geometry == nil || f.Geometry.Type != "Point" || json.Unmarshal(f.Geometry.Coordinates, &c) != nil {
		t.Fatalf("not a Point Feature: %+v", f)
	}
	at, err := time.Parse(time.RFC3339Nano, f.Properties["recorded_at"].(string))
	if err != nil || f.Properties["received_at"] == nil {
		t.Fatalf("recorded_at/received_at: %v", f.Properties)
	}
	return histFix{at: at, lon: c[0], lat: c[1]}
}

// pages follows next_cursor from the first page to the last and returns
// every fix in the order received.
func (s *service) pages(t *testing.T, id int64, q url.Values) []histFix {
	t.Helper()
	var all []histFix
	for n := 0; ; n++ {
		a := s.call("GET", path(id, "/history?"+q.Encode()), adminToken, "").answer(t)
		for _, f := range a.Features {
			all = append(all, readFix(t, f))
		}
		if a.NextCursor == "" || n > 1000 {
			return all
		}
		q.Set("cursor", a.NextCursor)
	}
}

func keys(fixes []histFix) []string {
	out := make([]string, len(fixes))
	for i, f := range fixes {
		out[i] = f.key()
	}
	return out
}
