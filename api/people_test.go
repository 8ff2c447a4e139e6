package api_test

import (
	"net/http"
	"strings"
	"testing"

	"whereabouts/api"
)

func TestPeopleLifecycle(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	r := s.call("POST", "/api/v1/people", adminToken, `{"name":"Ada","device_id":"phone-ada"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	v := r.json(t)
	id := int64(v["id"].(float64))
	if v["name"] != "Ada" || v["device_id"] != "phone-ada" || len(v["token"].(string)) < 40 {
		t.Fatalf("create answer: %s", r.body)
	}
	if r := s.call("GET", path(id, ""), adminToken, ""); r.status != 200 || r.json(t)["geometry"] != nil {
		t.Fatalf("get before any fix: %d %s", r.status, r.body)
	}
	if r := s.call("PUT", path(id, "/location"), v["token"].(string), `{"lat":52.37,"lon":4.89}`); r.status != 200 {
		t.Fatalf("move: %d %s", r.status, r.body)
	}
	list := s.call("GET", "/api/v1/people", adminToken, "").json(t)
	if list["type"] != "FeatureCollection" || len(list["features"].([]any)) != 1 {
		t.Fatalf("list: %v", list)
	}
	if r := s.call("DELETE", path(id, ""), adminToken, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := s.call("GET", path(id, ""), adminToken, ""); r.status != 404 || r.errorCode(t) != "not_found" {
		t.Fatalf("get deleted: %d %s", r.status, r.body)
	}
	if r := s.call("DELETE", path(id, ""), adminToken, ""); r.status != 404 {
		t.Fatalf("delete twice: %d %s", r.status, r.body)
	}
}

func TestPeopleListFiltersByBBox(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	in, _ := s.newPerson("In")
	out, _ := s.newPerson("Out")
	s.call("PUT", path(in, "/location"), adminToken, `{"lat":52.37,"lon":4.89}`)
	s.call("PUT", path(out, "/location"), adminToken, `{"lat":48.85,"lon":2.35}`)
	r := s.call("GET", "/api/v1/people?bbox=4,52,5,53", adminToken, "")
	feats := r.json(t)["features"].([]any)
	if len(feats) != 1 || feats[0].(map[string]any)["id"].(float64) != float64(in) {
		t.Fatalf("bbox list: %s", r.body)
	}
	if r := s.call("GET", "/api/v1/people?bbox=4,52,5", adminToken, ""); r.status != 400 || r.errorCode(t) != "invalid_parameter" {
		t.Fatalf("bad bbox: %d %s", r.status, r.body)
	}
}

func TestPeopleErrors(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: false})
	a, tokA := s.newPerson("A")
	b, _ := s.newPerson("B")
	s.call("PUT", path(b, "/location"), adminToken, `{"lat":1,"lon":1}`)
	s.call("PUT", path(a, "/location"), adminToken, `{"lat":2,"lon":2}`)
	s.call("POST", "/api/v1/people", adminToken, `{"name":"C","device_id":"taken"}`)
	cases := []struct {
		name, method, path, token, ctype, body string
		status                                 int
		code                                   string
	}{
		{"no token", "POST", "/api/v1/people", "", "application/json", `{"name":"x"}`, 401, "unauthorized"},
		{"wrong token", "GET", "/api/v1/people", "nope", "", "", 401, "unauthorized"},
		{"device token creating people", "POST", "/api/v1/people", tokA, "application/json", `{"name":"x"}`, 403, "forbidden"},
		{"device token deleting", "DELETE", path(b, ""), tokA, "", "", 403, "forbidden"},
		{"device reading another when devices may not see others", "GET", path(b, ""), tokA, "", "", 403, "forbidden"},
		{"missing name", "POST", "/api/v1/people", adminToken, "application/json", `{}`, 400, "invalid_parameter"},
		{"blank name", "POST", "/api/v1/people", adminToken, "application/json", `{"name":"   "}`, 400, "invalid_parameter"},
		{"name of 201 characters", "POST", "/api/v1/people", adminToken, "application/json", `{"name":"` + strings.Repeat("é", 201) + `"}`, 400, "invalid_parameter"},
		{"name with a control character", "POST", "/api/v1/people", adminToken, "application/json", `{"name":"a\u0007b"}`, 400, "invalid_parameter"},
		{"name of the wrong type", "POST", "/api/v1/people", adminToken, "application/json", `{"name":42}`, 400, "invalid_json"},
		{"device_id taken", "POST", "/api/v1/people", adminToken, "application/json", `{"name":"D","device_id":"taken"}`, 409, "conflict"},
		{"not JSON", "POST", "/api/v1/people", adminToken, "application/json", `{"name":`, 400, "invalid_json"},
		{"form content type", "POST", "/api/v1/people", adminToken, "application/x-www-form-urlencoded", `name=x`, 415, "unsupported_media_type"},
		{"id not a number", "GET", "/api/v1/people/abc", adminToken, "", "", 400, "invalid_parameter"},
		{"unknown person", "GET", "/api/v1/people/987654", adminToken, "", "", 404, "not_found"},
		{"unknown route", "GET", "/api/v1/nothing", adminToken, "", "", 404, "not_found"},
		{"wrong method on an ingest route", "GET", "/ingest/owntracks", "", "", "", 404, "not_found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(c.method, c.path, c.token, c.ctype, []byte(c.body))
			if r.status != c.status || r.errorCode(t) != c.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
	t.Run("a device that may not see others lists only itself", func(t *testing.T) {
		feats := s.call("GET", "/api/v1/people", tokA, "").json(t)["features"].([]any)
		if len(feats) != 1 || feats[0].(map[string]any)["id"].(float64) != float64(a) {
			t.Fatalf("device list: %v", feats)
		}
	})
}

func TestHealthAndReadiness(t *testing.T) {
	s := newService(t, api.Config{})
	if r := s.call("GET", "/healthz", "", ""); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
	waitReady(t, s)
	if r := s.call("GET", "/", "", ""); r.status != 200 || !strings.Contains(string(r.body), "<html") {
		t.Fatalf("map page: %d", r.status)
	}
}

func waitReady(t *testing.T, s *service) {
	t.Helper()
	for range 200 {
		if s.call("GET", "/readyz", "", "").status == 200 {
			return
		}
		sleep()
	}
	t.Fatal("never ready")
}
