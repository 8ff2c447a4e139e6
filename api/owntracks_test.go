package api_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"whereabouts/api"
)

// Vector D1 (owntracks/json-schema test/location-5s.json, verbatim).
const otD1 = `{"_type":"location","acc":9,"alt":93,"batt":94,"bs":1,"BSSID":"ca:fe:ed:40:81:5b","cog":252,"conn":"w","lat":53.430722,"lon":5.112126,"m":1,"p":99.182,"SSID":"hotel","t":"p","tid":"SG","tst":1701263310,"vac":3,"vel":1}`

func otFloat(v float64) *float64 { return &v }

// otWant is what one accepted message must leave in location_history.
type otWant struct {
	at                       time.Time
	lat, lon                 float64
	acc, mps, hdg, alt, batt *float64
}

func (w otWant) check(t *testing.T, got storedFix) {
	t.Helper()
	if !got.At.Equal(w.at) || got.At.UTC().Truncate(time.Millisecond) != w.at.UTC() || got.Lat != w.lat || got.Lon != w.lon {
		t.Errorf("stored %v at %v,%v; want %v at %v,%v", got.At.UTC(), got.Lat, got.Lon, w.at, w.lat, w.lon)
	}
	for _, r := range []struct {
		name      string
		got, want *float64
	}{{"accuracy_m", got.Acc, w.acc}, {"speed_mps", got.Spd, w.mps}, {"heading_deg", got.Hdg, w.hdg},
		{"altitude_m", got.Alt, w.alt}, {"battery", got.Bat, w.batt}} {
		if (r.got == nil) != (r.want == nil) || (r.got != nil && math.Abs(*r.got-*r.want) > 1e-4) {
			t.Errorf("%s: stored %v, want %v", r.name, otValue(r.got), otValue(r.want))
		}
	}
}

func otValue(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func TestOwnTracksVectorsAreStored(t *testing.T) {
	now := time.Now().Unix()
	d4 := fmt.Sprintf(`{"_type":"location","t":"u","batt":11,"lat":48.856826,"lon":2.292713,"tid":"JJ","tst":%d,"topic":"owntracks/jane/phone"}`, now)
	d4want := &otWant{at: time.Unix(now, 0).UTC(), lat: 48.856826, lon: 2.292713, batt: otFloat(0.11)}
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name string
		req  otRequest
		want *otWant // nil: nothing stored
	}{
		{"D1 as the Android app posts it", otRequest{ctype: "application/json; charset=utf-8", body: otD1,
			header: map[string]string{"X-Limit-U": "jane", "X-Limit-D": "phone", "User-Agent": "Owntracks-Android/gms/420412000"}},
			&otWant{at: time.Date(2023, 11, 29, 13, 8, 30, 0, time.UTC), lat: 53.430722, lon: 5.112126,
				acc: otFloat(9), mps: otFloat(0.2778), hdg: otFloat(252), alt: otFloat(93), batt: otFloat(0.94)}},
		{"D4 from curl --data with u and d", otRequest{query: "?u=jane&d=phone", ctype: form, body: d4}, d4want},
		{"D4 with u alone (the shell cut &d=)", otRequest{query: "?u=jane", ctype: form, body: d4}, d4want},
		{"D6 empty body", otRequest{ctype: "application/json; charset=utf-8"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newService(t, api.Config{DevicesSeeOthers: true})
			id, tok := s.newDevice("Jane", "jane")
			c.req.user, c.req.pass = "jane", tok
			r := s.otPost(c.req)
			if r.status != 200 || string(r.body) != "[]" || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("answer %d %q %q, want 200 [] application/json", r.status, r.header.Get("Content-Type"), r.body)
			}
			hist := s.storedHistory(id)
			if c.want == nil {
				if len(hist) != 0 {
					t.Fatalf("stored %v", hist)
				}
				return
			}
			if len(hist) != 1 {
				t.Fatalf("history %v", hist)
			}
			c.want.check(t, hist[0])
			props := s.call("GET", path(id, ""), adminToken, "").json(t)["properties"].(map[string]any)
			if at, _ := time.Parse(time.RFC3339Nano, props["recorded_at"].(string)); !at.Equal(c.want.at) {
				t.Fatalf("live recorded_at %v, want %v", props["recorded_at"], c.want.at)
			}
		})
	}
}

func TestOwnTracksOutOfOrderAndResentFixes(t *testing.T) {
	s := newService(t, api.Config{})
	id, tok := s.newDevice("Jane", "jane")
	post := func(lat float64, tst int64) {
		t.Helper()
		r := s.otPost(otRequest{user: "jane", pass: tok, body: fmt.Sprintf(`{"_type":"location","lat":%g,"lon":5,"tst":%d}`, lat, tst)})
		if r.status != 200 || string(r.body) != "[]" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	post(1, t0.Add(30*time.Second).Unix()) // G1: 10:00:30 ...
	post(2, t0.Unix())                     // ... then 10:00:00 from the offline buffer
	post(2, t0.Unix())                     // G2: a retry after a lost answer
	hist := s.storedHistory(id)
	if len(hist) != 2 {
		t.Fatalf("history has %d rows, want 2: %v", len(hist), hist)
	}
	f := s.call("GET", path(id, ""), adminToken, "").json(t)
	coords := f["geometry"].(map[string]any)["coordinates"].([]any)
	at, _ := time.Parse(time.RFC3339Nano, f["properties"].(map[string]any)["recorded_at"].(string))
	if coords[1] != 1.0 || !at.Equal(t0.Add(30*time.Second)) || f["properties"].(map[string]any)["version"] != 1.0 {
		t.Fatalf("the older fix moved the marker: %v", f)
	}
}

func TestOwnTracksReadsNumericStringsSentinelsAndFixTime(t *testing.T) {
	s := newService(t, api.Config{})
	id, tok := s.newDevice("Jane", "jane")
	body := `{"_type":"location","lat":"52.1","lon":"4.9","tst":"1701258666.123","created_at":1701258670,` +
		`"vel":"36","batt":"50","acc":-1,"cog":-1,"alt":-2}`
	if r := s.otPost(otRequest{user: "jane", pass: tok, body: body}); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	hist := s.storedHistory(id)
	if len(hist) != 1 {
		t.Fatalf("history %v", hist)
	}
	otWant{at: time.UnixMilli(1701258666123).UTC(), lat: 52.1, lon: 4.9, mps: otFloat(10), batt: otFloat(0.5), alt: otFloat(-2)}.check(t, hist[0])
}

func TestOwnTracksIgnoresMessagesThatAreNotLocations(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	id, tok := s.newDevice("Jane", "jane")
	for _, body := range []string{
		`{"_type":"transition","acc":6,"created_at":1701264373,"desc":"blukii","event":"enter","lat":61.195709,"lon":9.688233,"rid":"c00b92","t":"b","tid":"SG","tst":1701264368,"wtst":1610104404}`,
		`{"_type":"waypoint","desc":"Home","lat":52,"lon":5,"rad":50,"tst":1701264368}`, `{"_type":"waypoints","waypoints":[]}`,
		`{"_type":"card","name":"Jane"}`, `{"_type":"lwt","tst":1699882482}`, `{"_type":"steps"}`,
		`{"_type":"cmd","action":"reportLocation"}`, `{"_type":"status","android":{}}`, `{"_type":"from-the-future"}`, `[]`,
	} {
		if r := s.otPost(otRequest{user: "jane", pass: tok, body: body}); r.status != 200 || string(r.body) != "[]" {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	if h := s.storedHistory(id); len(h) != 0 {
		t.Fatalf("stored %v", h)
	}
	if props := s.call("GET", path(id, ""), adminToken, "").json(t)["properties"].(map[string]any); props["last_seen_at"] == nil {
		t.Fatalf("the device was not marked as seen: %v", props)
	}
}

func TestOwnTracksArrayBeyondTheBatchLimitIsRefused(t *testing.T) {
	s := newService(t, api.Config{})
	_, tok := s.newDevice("Jane", "jane")
	msg := `{"_type":"location","lat":1,"lon":1,"tst":1701263310},`
	body := "[" + strings.Repeat(msg, api.MaxBatch) + strings.TrimSuffix(msg, ",") + "]"
	if len(body) > api.MaxBody {
		t.Skipf("%d bytes: the body limit answers first", len(body))
	}
	r := s.otPost(otRequest{user: "jane", pass: tok, body: body})
	if r.status != 413 || r.errorCode(t) != "body_too_large" {
		t.Fatalf("%d %s", r.status, r.body)
	}
}
