package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"whereabouts/api"
)

// osmWant is what one request must leave in location_history.
type osmWant struct {
	deviceID                string
	lat, lon                float64
	at                      string // RFC 3339; "" means the time it was received
	acc, spd, hdg, alt, bat *float64
}

const osmKnotMPS = 1852.0 / 3600

// osmVectorWants are the expectations of vectors.md, in stored units: m/s,
// battery as a fraction, -1 as NULL.
var osmVectorWants = map[string]osmWant{
	"A1":  {deviceID: "123456", lat: 60, lon: 30, at: "2013-08-22T13:14:27Z"},
	"A2":  {deviceID: "902064", lat: 42.06288, lon: -88.23412, at: "2016-01-27T18:55:47Z", alt: osmF(224), spd: osmF(0)},
	"A3":  {deviceID: "902064", lat: 42.06288, lon: -88.23412, at: "2015-09-12T14:38:06.579Z", alt: osmF(224), spd: osmF(0)},
	"A5":  {deviceID: "123456", lat: 60, lon: 30, at: "2013-08-22T13:14:27Z", spd: osmF(0), hdg: osmF(0), alt: osmF(0)},
	"A6":  {deviceID: "123456", lat: 60, lon: 30, spd: osmF(0), hdg: osmF(0), alt: osmF(0)},
	"A8":  {deviceID: "123456", lat: 60, lon: 30, at: "2013-08-22T13:14:27Z"},
	"A10": {deviceID: "123456", lat: 60, lon: 30, at: "2013-08-22T13:14:27Z"}, // identified by the token alone
	"B1": {deviceID: "48241179", lat: 37.4219983, lon: -122.084, at: "2025-06-15T13:45:12.862Z",
		acc: osmF(5), spd: osmF(0), alt: osmF(5), bat: osmF(1)},
	"B3": {deviceID: "8737767034", lat: -6.1148096, lon: 106.6837015, at: "2021-07-21T08:06:34.444Z",
		acc: osmF(3.8), spd: osmF(18.67), hdg: osmF(63), alt: osmF(35.7), bat: osmF(0.79)},
	"C1": {deviceID: "48241179", lat: 52.5200066, lon: 13.404954, at: "2025-09-01T08:00:00Z",
		acc: osmF(4.7), alt: osmF(34), spd: osmF(1.94 * osmKnotMPS), hdg: osmF(90), bat: osmF(0.8)},
	"E1": {deviceID: "gpslogger", lat: 12.193, lon: 19.456, at: "2016-03-05T19:24:29.949Z",
		alt: osmF(0), acc: osmF(0), hdg: osmF(0), spd: osmF(0), bat: osmF(0)},
	"E3": {deviceID: "gpslogger", lat: 12.193, lon: 19.456, at: "2016-03-05T19:24:29.949Z",
		alt: osmF(0), acc: osmF(0), hdg: osmF(0), spd: osmF(0), bat: osmF(0)},
}

// check compares the only history row with w; received brackets the
// request, for a fix without a time.
func (w osmWant) check(t *testing.T, rows []storedFix, received [2]time.Time) {
	t.Helper()
	if len(rows) != 1 {
		t.Fatalf("%d history rows, want 1: %+v", len(rows), rows)
	}
	r := rows[0]
	if w.at != "" {
		want, _ := time.Parse(time.RFC3339Nano, w.at)
		if !r.At.Equal(want) {
			t.Fatalf("recorded_at %s, want %s", r.At.UTC().Format(time.RFC3339Nano), w.at)
		}
	} else if r.At.Before(received[0].Truncate(time.Millisecond)) || r.At.After(received[1]) {
		t.Fatalf("recorded_at %s is not the receive time", r.At)
	}
	if !osmSame(&r.Lat, &w.lat) || !osmSame(&r.Lon, &w.lon) {
		t.Fatalf("stored %v,%v, want %v,%v", r.Lat, r.Lon, w.lat, w.lon)
	}
	for _, c := range []struct {
		name      string
		got, want *float64
	}{{"accuracy_m", r.Acc, w.acc}, {"speed_mps", r.Spd, w.spd}, {"heading_deg", r.Hdg, w.hdg}, {"altitude_m", r.Alt, w.alt}, {"battery", r.Bat, w.bat}} {
		if !osmSame(c.got, c.want) {
			t.Fatalf("%s: stored %v, want %v", c.name, osmStr(c.got), osmStr(c.want))
		}
	}
	if r.Flag != nil {
		t.Fatalf("flagged %q", *r.Flag)
	}
}

// osmRoute moves a vector's request line onto /ingest/osmand of the main
// port.
func osmRoute(target string) string {
	_, query, _ := strings.Cut(target, "?")
	return "/ingest/osmand?" + query
}

func TestOsmAndStoresEveryRealClientRequest(t *testing.T) {
	for _, v := range api.OsmVectors {
		want := osmVectorWants[v.Name]
		t.Run(v.Name, func(t *testing.T) {
			e := osmNewEnv(t)
			id, tok := e.newDevice("p-"+want.deviceID, want.deviceID)
			start := time.Now()
			r := e.send(v.Method, e.url+osmRoute(v.Target), v.ContentType, v.Body, "Authorization", "Bearer "+tok)
			if r.status != http.StatusOK || len(r.body) != 0 {
				t.Fatalf("/ingest/osmand: %d %q, want 200 and an empty body", r.status, r.body)
			}
			want.check(t, e.storedHistory(id), [2]time.Time{start, time.Now()})

			// Verbatim on the second port (any path); the same fix again is a
			// duplicate (G2): one row, no new version.
			r = e.send(v.Method, e.osmURL+v.Target, v.ContentType, v.Body, "Authorization", "Bearer "+tok)
			if r.status != http.StatusOK || len(r.body) != 0 {
				t.Fatalf("second port: %d %q", r.status, r.body)
			}
			if v.Name != "A6" { // A6 has no time: each send is a new fix
				want.check(t, e.storedHistory(id), [2]time.Time{start, time.Now()})
				if version, _, _ := e.live(id); version != 1 {
					t.Fatalf("a resent fix moved the version to %d", version)
				}
			}
		})
	}
}

func osmStr(v *float64) any {
	if v == nil {
		return "NULL"
	}
	return *v
}
