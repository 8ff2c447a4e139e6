package api_test

import (
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"whereabouts/api"
)

func TestHistoryPagesThroughEveryFixOnce(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	ada, _ := s.newPerson("Ada")
	bob, _ := s.newPerson("Bob")
	rnd := rand.New(rand.NewPCG(31, 37))
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	want := s.seedHistory(ada, track(rnd, t0))
	s.seedHistory(bob, track(rnd, t0)) // interleaved in time: must never show up
	for _, limit := range []string{"1", "7", "100", "256", "257", "10000"} {
		t.Run("limit "+limit, func(t *testing.T) {
			got := s.pages(t, ada, url.Values{"limit": {limit}})
			if !slices.Equal(keys(got), keys(want)) {
				t.Fatalf("paging by %s: got %d fixes, want %d in (recorded_at, lon, lat) order", limit, len(got), len(want))
			}
		})
	}
	from, to := want[50].at, want[200].at
	var inRange []histFix
	for _, f := range want {
		if !f.at.Before(from) && f.at.Before(to) {
			inRange = append(inRange, f)
		}
	}
	for name, q := range map[string]url.Values{
		"RFC 3339":                 {"from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339)}},
		"an offset":                {"from": {from.In(time.FixedZone("", 2*3600)).Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}},
		"Unix seconds":             {"from": {strconv.FormatInt(from.Unix(), 10)}, "to": {strconv.FormatInt(to.Unix(), 10)}},
		"Unix milliseconds":        {"from": {strconv.FormatInt(from.UnixMilli(), 10)}, "to": {strconv.FormatInt(to.UnixMilli(), 10)}},
		"from alone, then cut off": {"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "limit": {"9"}},
	} {
		t.Run("from and to in "+name, func(t *testing.T) {
			if got := s.pages(t, ada, q); !slices.Equal(keys(got), keys(inRange)) {
				t.Fatalf("got %d fixes, want the %d in [from, to)", len(got), len(inRange))
			}
		})
	}
	t.Run("an unencoded + in an offset", func(t *testing.T) {
		raw := "from=" + from.In(time.FixedZone("", 2*3600)).Format(time.RFC3339) + "&to=" + to.Format(time.RFC3339) + "&limit=10000"
		if got := s.call("GET", path(ada, "/history?"+raw), adminToken, "").answer(t).Features; len(got) != len(inRange) {
			t.Fatalf("got %d fixes, want %d", len(got), len(inRange))
		}
	})
}

func TestHistoryPropertiesAndLineString(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	ada, _ := s.newPerson("Ada")
	want := s.seedHistory(ada, track(rand.New(rand.NewPCG(41, 43)), time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)))

	var flagged, plain int
	for _, f := range s.call("GET", path(ada, "/history?limit=3"), adminToken, "").answer(t).Features {
		p := f.Properties
		_, hasFlag := p["flag"]
		_, hasBattery := p["battery"]
		switch {
		case p["flag"] == "inaccurate" && p["battery"] == 0.5 && p["recorded_at"] == "2026-03-01T08:00:00.000000Z":
			flagged++
		case !hasFlag && !hasBattery:
			plain++
		default:
			t.Fatalf("fix properties: %v", p)
		}
	}
	if flagged != 1 || plain != 2 {
		t.Fatalf("%d flagged and %d plain fixes in the first three, want 1 and 2", flagged, plain)
	}

	q := url.Values{"format": {"linestring"}, "limit": {"50"}}
	for page := range 2 {
		line := s.call("GET", path(ada, "/history?"+q.Encode()), adminToken, "").answer(t)
		var coords [][2]float64
		if line.Type != "Feature" || line.Geometry == nil || line.Geometry.Type != "LineString" ||
			json.Unmarshal(line.Geometry.Coordinates, &coords) != nil || len(coords) != 50 {
			t.Fatalf("page %d is not a LineString of 50: %+v", page, line)
		}
		part := want[page*50 : page*50+50]
		for i, c := range coords {
			if c != [2]float64{part[i].lon, part[i].lat} {
				t.Fatalf("page %d, position %d: %v, want %v", page, i, c, part[i])
			}
		}
		p := line.Properties
		if p["person_id"] != float64(ada) || p["count"] != 50.0 || line.NextCursor == "" ||
			p["from"] != part[0].at.Format("2006-01-02T15:04:05.000000Z") || p["to"] != part[49].at.Format("2006-01-02T15:04:05.000000Z") {
			t.Fatalf("page %d properties %v, next_cursor %q", page, p, line.NextCursor)
		}
		q.Set("cursor", line.NextCursor)
	}
}

func TestHistoryOfFewFixesAndWhoMayReadIt(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: false})
	ada, adaTok := s.newPerson("Ada")
	bob, _ := s.newPerson("Bob")
	empty := s.call("GET", path(ada, "/history"), adminToken, "").answer(t)
	if empty.Type != "FeatureCollection" || len(empty.Features) != 0 || empty.NextCursor != "" {
		t.Fatalf("no fixes: %+v", empty)
	}
	line := s.call("GET", path(ada, "/history?format=linestring"), adminToken, "").answer(t)
	if line.Geometry != nil || line.Properties["count"] != 0.0 || line.Properties["from"] != nil {
		t.Fatalf("no fixes as a line: %+v", line)
	}
	s.call("PUT", path(ada, "/location"), adaTok, `{"lat":52.37,"lon":4.89}`)
	line = s.call("GET", path(ada, "/history?format=linestring"), adaTok, "").answer(t)
	if line.Geometry != nil || line.Properties["count"] != 1.0 || line.Properties["from"] != line.Properties["to"] {
		t.Fatalf("one fix as a line (a line needs two): %+v", line)
	}
	for _, c := range []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"an unknown person", path(999999, "/history"), adminToken, 404, "not_found"},
		{"a device reading another's history", path(bob, "/history"), adaTok, 403, "forbidden"},
		{"no token", path(ada, "/history"), "", 401, "unauthorized"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.call("GET", c.path, c.token, "")
			if r.status != c.status || r.errorCode(t) != c.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
		})
	}
	open := newService(t, api.Config{DevicesSeeOthers: true})
	carol, carolTok := open.newPerson("Carol")
	dave, _ := open.newPerson("Dave")
	open.call("PUT", path(carol, "/location"), carolTok, `{"lat":1,"lon":1}`)
	if r := open.call("GET", path(dave, "/history"), carolTok, ""); r.status != 200 {
		t.Fatalf("a device reading another's history where devices see each other: %d %s", r.status, r.body)
	}
}
