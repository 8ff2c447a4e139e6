package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"whereabouts/api"
)

func sleep() { time.Sleep(25 * time.Millisecond) }

func TestPutLocationAcceptsEachShape(t *testing.T) {
	s := newService(t, api.Config{})
	id, tok := s.newPerson("Ada")
	t0 := time.Now().Add(-time.Hour).UTC()
	stamp := func(d time.Duration) string { return `"` + t0.Add(d).Format(time.RFC3339Nano) + `"` }
	cases := []struct{ name, body string }{
		{"flat object", `{"lat":37.77,"lon":-122.41,"recorded_at":` + stamp(1*time.Second) + `,"accuracy_m":5,"speed_mps":1.2,"heading_deg":90,"altitude_m":12,"battery":0.8}`},
		{"GeoJSON Point", `{"type":"Point","coordinates":[-122.42,37.78],"recorded_at":` + stamp(2*time.Second) + `}`},
		{"GeoJSON Feature", `{"type":"Feature","geometry":{"type":"Point","coordinates":[-122.43,37.79,15]},"properties":{"recorded_at":` + fmt.Sprint(t0.Add(3*time.Second).UnixMilli()) + `,"battery":0.5}}`},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.call("PUT", path(id, "/location"), tok, c.body)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			v := r.json(t)
			if v["properties"].(map[string]any)["version"].(float64) != float64(i+1) {
				t.Fatalf("version after %d moves: %s", i+1, r.body)
			}
		})
	}
	f := s.call("GET", path(id, ""), adminToken, "").json(t)
	coords := f["geometry"].(map[string]any)["coordinates"].([]any)
	props := f["properties"].(map[string]any)
	if coords[0] != -122.43 || coords[1] != 37.79 || props["altitude_m"] != 15.0 || props["battery"] != 0.5 {
		t.Fatalf("stored %v %v", coords, props)
	}
}

func TestOutOfOrderFixIsKeptButDoesNotMoveTheMarker(t *testing.T) {
	s := newService(t, api.Config{})
	id, tok := s.newPerson("Ada")
	s.call("PUT", path(id, "/location"), tok, `{"lat":1,"lon":1,"recorded_at":`+nowJSON(-30*time.Second)+`}`)
	r := s.call("PUT", path(id, "/location"), tok, `{"lat":2,"lon":2,"recorded_at":`+nowJSON(-60*time.Second)+`}`)
	if r.status != 200 {
		t.Fatalf("older fix: %d %s", r.status, r.body)
	}
	if c := r.json(t)["geometry"].(map[string]any)["coordinates"].([]any); c[0] != 1.0 {
		t.Fatalf("older fix moved the marker: %s", r.body)
	}
}

func TestPutLocationRejectsBadInput(t *testing.T) {
	s := newService(t, api.Config{})
	id, tok := s.newPerson("Ada")
	other, _ := s.newPerson("Bob")
	loc := path(id, "/location")
	cases := []struct {
		name, path, token, ctype, body string
		status                         int
		code                           string
	}{
		{"lat 91", loc, tok, "application/json", `{"lat":91,"lon":0}`, 400, "invalid_location"},
		{"lon -181", loc, tok, "application/json", `{"lat":0,"lon":-181}`, 400, "invalid_location"},
		{"NaN as a string", loc, tok, "application/json", `{"lat":"NaN","lon":0}`, 400, "invalid_location"},
		{"Infinity as a string", loc, tok, "application/json", `{"lat":0,"lon":"Infinity"}`, 400, "invalid_location"},
		{"a number too large for a float", loc, tok, "application/json", `{"lat":1e400,"lon":0}`, 400, "invalid_location"},
		{"missing lat", loc, tok, "application/json", `{"lon":0}`, 400, "invalid_location"},
		{"lat of the wrong type", loc, tok, "application/json", `{"lat":true,"lon":0}`, 400, "invalid_location"},
		{"a reading of the wrong type", loc, tok, "application/json", `{"lat":0,"lon":0,"speed_mps":"fast"}`, 400, "invalid_location"},
		{"negative accuracy", loc, tok, "application/json", `{"lat":0,"lon":0,"accuracy_m":-1}`, 400, "invalid_location"},
		{"battery as a percentage", loc, tok, "application/json", `{"lat":0,"lon":0,"battery":80}`, 400, "invalid_location"},
		{"ten minutes in the future", loc, tok, "application/json", `{"lat":0,"lon":0,"recorded_at":` + nowJSON(10*time.Minute) + `}`, 400, "invalid_location"},
		{"a time that is not RFC 3339", loc, tok, "application/json", `{"lat":0,"lon":0,"recorded_at":"yesterday"}`, 400, "invalid_location"},
		{"a Unix time in the year three million", loc, tok, "application/json", `{"lat":1,"lon":1,"recorded_at":1e17}`, 400, "invalid_location"},
		{"a LineString", loc, tok, "application/json", `{"type":"LineString","coordinates":[[0,0],[1,1]]}`, 400, "invalid_location"},
		{"a Feature without geometry", loc, tok, "application/json", `{"type":"Feature","properties":{}}`, 400, "invalid_location"},
		{"an array", loc, tok, "application/json", `[1,2]`, 400, "invalid_location"},
		{"not JSON", loc, tok, "application/json", `{"lat":`, 400, "invalid_json"},
		{"2 MB body", loc, tok, "application/json", `{"lat":0,"lon":0,"pad":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "body_too_large"},
		{"text/plain", loc, tok, "text/plain", `{"lat":0,"lon":0}`, 415, "unsupported_media_type"},
		{"unknown person", path(987654, "/location"), adminToken, "application/json", `{"lat":0,"lon":0}`, 404, "not_found"},
		{"a device moving another person", path(other, "/location"), tok, "application/json", `{"lat":0,"lon":0}`, 403, "forbidden"},
		{"no token", loc, "", "application/json", `{"lat":0,"lon":0}`, 401, "unauthorized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do("PUT", c.path, c.token, c.ctype, []byte(c.body))
			if r.status != c.status || r.errorCode(t) != c.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
		})
	}
	if s.call("GET", path(id, ""), adminToken, "").json(t)["geometry"] != nil {
		t.Fatal("a rejected position was stored")
	}
}

func TestBatchAppliesGoodItemsAndReportsBadOnes(t *testing.T) {
	s := newService(t, api.Config{})
	a, tokA := s.newPerson("A")
	b, _ := s.newPerson("B")
	body := fmt.Sprintf(`[
		{"person_id":%d,"lat":1,"lon":1,"recorded_at":%s},
		{"person_id":%d,"lat":91,"lon":1},
		{"person_id":%d,"lat":2,"lon":2,"recorded_at":%s},
		{"person_id":987654,"lat":1,"lon":1},
		{"lat":1,"lon":1},
		{"person_id":%d,"lat":3,"lon":3}
	]`, a, nowJSON(-2*time.Second), a, a, nowJSON(-time.Second), b)
	r := s.call("POST", "/api/v1/locations", adminToken, body)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	v := r.json(t)
	rej := v["rejected"].([]any)
	wantCodes := map[float64]string{1: "invalid_location", 3: "not_found", 4: "invalid_location"}
	if v["accepted"] != 3.0 || len(rej) != len(wantCodes) {
		t.Fatalf("batch answer %s", r.body)
	}
	for _, x := range rej {
		item := x.(map[string]any)
		if code := item["error"].(map[string]any)["code"]; code != wantCodes[item["index"].(float64)] {
			t.Fatalf("item %v: code %v (%s)", item["index"], code, r.body)
		}
	}
	if got := s.call("GET", path(a, ""), adminToken, "").json(t)["properties"].(map[string]any)["version"]; got != 2.0 {
		t.Fatalf("A moved twice in one batch, version %v", got)
	}
	t.Run("a device may post only its own positions", func(t *testing.T) {
		body := fmt.Sprintf(`{"type":"FeatureCollection","features":[
			{"type":"Feature","geometry":{"type":"Point","coordinates":[5,5]},"properties":{"person_id":%d}},
			{"type":"Feature","geometry":{"type":"Point","coordinates":[6,6]},"properties":{"person_id":%d}}]}`, a, b)
		v := s.call("POST", "/api/v1/locations", tokA, body).json(t)
		rej := v["rejected"].([]any)
		if v["accepted"] != 1.0 || len(rej) != 1 || rej[0].(map[string]any)["error"].(map[string]any)["code"] != "forbidden" {
			t.Fatalf("device batch: %v", v)
		}
	})
	t.Run("more than 10,000 positions", func(t *testing.T) {
		items := strings.Repeat(`{"person_id":1,"lat":0,"lon":0},`, api.MaxBatch)
		r := s.call("POST", "/api/v1/locations", adminToken, "["+items+`{"person_id":1,"lat":0,"lon":0}]`)
		if r.status != http.StatusRequestEntityTooLarge || r.errorCode(t) != "body_too_large" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("neither an array nor a FeatureCollection", func(t *testing.T) {
		r := s.call("POST", "/api/v1/locations", adminToken, `{"lat":1}`)
		if r.status != 400 || r.errorCode(t) != "invalid_json" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}
