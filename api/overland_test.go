package api_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"whereabouts/api"
)

// ovlF1 is vector F1: the Overland README example, byte for byte.
const ovlF1 = `{"locations":[{"type":"Feature","geometry":{"type":"Point","coordinates":[-122.030581,37.331800]},"properties":{"timestamp":"2015-10-01T08:00:00-0700","altitude":0,"speed":4,"horizontal_accuracy":30,"vertical_accuracy":-1,"motion":["driving","stationary"],"pauses":false,"activity":"other_navigation","desired_accuracy":100,"deferred":1000,"significant_change":"disabled","locations_in_payload":1,"battery_state":"charging","battery_level":0.89,"device_id":"","wifi":""}}]}`

// ovlAt is one location Feature at a time and place, as the current app
// writes it.
func ovlAt(at string, lon, lat float64) string {
	return `{"type":"Feature","geometry":{"type":"Point","coordinates":[` + strconv.FormatFloat(lon, 'f', -1, 64) + `,` +
		strconv.FormatFloat(lat, 'f', -1, 64) + `]},"properties":{"timestamp":"` + at + `","speed":-1,"horizontal_accuracy":5,"vertical_accuracy":3,"altitude":12,"battery_level":0.5,"battery_state":"unplugged","motion":[],"wifi":"","device_id":""}}`
}

func ovlBatchOf(items ...string) string { return `{"locations":[` + strings.Join(items, ",") + `]}` }

func TestOverlandVectorsThroughTheServer(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	f1Row := storedFix{At: at("2015-10-01T15:00:00Z"), Lon: -122.030581, Lat: 37.3318, Acc: ovlF(30), Spd: ovlF(4), Bat: ovlF(0.89)}
	cases := []struct {
		name       string
		bodies     []string    // sent in order, each must answer {"result":"ok"}
		queryToken bool        // ?token= instead of Authorization: Bearer
		want       []storedFix // history, oldest first
		marker     string      // live recorded_at after the last body
	}{
		{"F1 with Authorization: Bearer is stored in GeoJSON order at 15:00 UTC, unknown altitude left out",
			[]string{ovlF1}, false, []storedFix{f1Row}, "2015-10-01T15:00:00.000000Z"},
		{"F1 with the token in the query is stored the same",
			[]string{ovlF1}, true, []storedFix{f1Row}, "2015-10-01T15:00:00.000000Z"},
		{"G1: an older fix sent later is kept but the marker stays at the newer",
			[]string{ovlBatchOf(ovlAt("2024-05-01T10:00:30Z", 13.4, 52.5)), ovlBatchOf(ovlAt("2024-05-01T10:00:00Z", 13.3, 52.4))}, false,
			[]storedFix{
				{At: at("2024-05-01T10:00:00Z"), Lon: 13.3, Lat: 52.4, Acc: ovlF(5), Alt: ovlF(12), Bat: ovlF(0.5)},
				{At: at("2024-05-01T10:00:30Z"), Lon: 13.4, Lat: 52.5, Acc: ovlF(5), Alt: ovlF(12), Bat: ovlF(0.5)},
			}, "2024-05-01T10:00:30.000000Z"},
		{"G2: the same batch resent after a lost answer is stored once",
			[]string{ovlF1, ovlF1}, false, []storedFix{f1Row}, "2015-10-01T15:00:00.000000Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, tok := s.newPerson("Ada")
			for i, body := range c.bodies {
				r := s.ovlPost(tok, body)
				if c.queryToken {
					r = s.do("POST", "/ingest/overland?token="+tok, "", "application/json", []byte(body))
				}
				if r.status != 200 || string(r.body) != `{"result":"ok"}` || r.header.Get("Content-Type") != "application/json" {
					t.Fatalf("body %d: %d %q %q", i, r.status, r.header.Get("Content-Type"), r.body)
				}
			}
			got := s.storedHistory(id)
			if len(got) != len(c.want) {
				t.Fatalf("stored %d rows, want %d: %+v", len(got), len(c.want), got)
			}
			for i := range got {
				ovlSameRow(t, got[i], c.want[i])
			}
			if marker, _, version := s.ovlMarker(id); marker != c.marker || version != 1 {
				t.Fatalf("marker at %s version %v, want %s version 1", marker, version, c.marker)
			}
		})
	}
}

// ovlSameRow compares a stored row with the expected one, reading for
// reading: a nil reading must be NULL, not 0 or -1.
func ovlSameRow(t *testing.T, got, want storedFix) {
	t.Helper()
	if !got.At.Equal(want.At) || got.Lon != want.Lon || got.Lat != want.Lat || got.Flag != nil {
		t.Fatalf("stored %v %v/%v flag %v, want %v %v/%v", got.At, got.Lon, got.Lat, got.Flag, want.At, want.Lon, want.Lat)
	}
	for _, r := range []struct {
		name      string
		got, want *float64
	}{{"accuracy_m", got.Acc, want.Acc}, {"speed_mps", got.Spd, want.Spd}, {"heading_deg", got.Hdg, want.Hdg},
		{"altitude_m", got.Alt, want.Alt}, {"battery", got.Bat, want.Bat}} {
		if (r.got == nil) != (r.want == nil) || (r.got != nil && *r.got != *r.want) {
			t.Fatalf("%s stored as %v, want %v", r.name, ovlShow(r.got), ovlShow(r.want))
		}
	}
}

func ovlShow(v *float64) string {
	if v == nil {
		return "NULL"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

func TestOverlandAuthentication(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	id, tok := s.newPerson("Ada")
	cases := []struct {
		name, query, bearer string
		status              int
	}{
		{"no token", "", "", 401},
		{"a wrong bearer token", "", "not-a-token", 401},
		{"a wrong query token", "?token=not-a-token", "", 401},
		{"the admin token, which is no device", "", adminToken, 401},
		{"the bearer token wins over the query", "?token=not-a-token", tok, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do("POST", "/ingest/overland"+c.query, c.bearer, "application/json", []byte(ovlF1))
			if r.status != c.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, c.status)
			}
			if c.status == 401 && r.errorCode(t) != "unauthorized" {
				t.Fatalf("401 body %s", r.body)
			}
		})
	}
	if n := len(s.storedHistory(id)); n != 1 {
		t.Fatalf("%d rows after one authenticated request", n)
	}
}

func TestOverlandIsLenientAboutContentTypeButNotAboutTheShape(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	id, tok := s.newPerson("Ada")
	for i, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-8"} {
		body := ovlBatchOf(ovlAt("2024-05-01T10:00:0"+strconv.Itoa(i)+"Z", 1, 2))
		if r := s.do("POST", "/ingest/overland", tok, ct, []byte(body)); r.status != 200 {
			t.Fatalf("Content-Type %q: %d %s", ct, r.status, r.body)
		}
	}
	for _, body := range []string{`{"locations":[`, `[]`, `{"_type":"location","lat":1,"lon":2,"tst":1701263310}`} {
		if r := s.ovlPost(tok, body); r.status != 400 || r.errorCode(t) != "invalid_json" {
			t.Fatalf("%s: %d %s", body, r.status, r.body)
		}
	}
	if n := len(s.storedHistory(id)); n != 4 {
		t.Fatalf("%d rows, want 4", n)
	}
}

func TestOverlandTheTokenDecidesNotTheDeviceID(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	r := s.call("POST", "/api/v1/people", adminToken, `{"name":"Ada","device_id":"ada-phone"}`)
	v := r.json(t)
	id, tok := int64(v["id"].(float64)), v["token"].(string)
	bob, _ := s.newPerson("Bob")
	body := strings.Replace(ovlF1, `"device_id":""`, `"device_id":"bobs-phone"`, 1)
	if r := s.ovlPost(tok, body); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if len(s.storedHistory(id)) != 1 || len(s.storedHistory(bob)) != 0 {
		t.Fatal("the fix was not stored under the token's person")
	}
}
