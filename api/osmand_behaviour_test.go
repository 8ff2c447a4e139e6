package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestOsmAndHeartbeatUpdatesLastSeenOnly(t *testing.T) {
	e := osmNewEnv(t)
	for _, c := range []struct{ name, query, ctype, body string }{
		{"query without coordinates", "id={tok}&batt=80", "", ""},
		{"Traccar Client JSON without coords", "", "application/json", `{"location":{"timestamp":"2025-06-15T13:45:12.862Z","event":"heartbeat"},"device_id":"{tok}"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, tok := e.newDevice("p-"+c.name, c.name)
			fill := strings.NewReplacer("{tok}", tok)
			r := e.send("POST", e.osmURL+"/?"+fill.Replace(c.query), c.ctype, fill.Replace(c.body))
			if r.status != 200 || len(r.body) != 0 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			version, recordedAt, seenAt := e.live(id)
			if n := len(e.storedHistory(id)); n != 0 || version != 0 || recordedAt != nil || seenAt == nil {
				t.Fatalf("rows %d, version %d, recorded_at %v, seen_at %v", n, version, recordedAt, seenAt)
			}
		})
	}
}

func TestOsmAndKeepsOrderAndDropsRepeats(t *testing.T) {
	e := osmNewEnv(t)
	send := func(tok string, at time.Time, lat float64) {
		t.Helper()
		q := fmt.Sprintf("/?id=%s&lat=%g&lon=30&timestamp=%s", tok, lat, at.Format("2006-01-02T15:04:05.000Z"))
		if r := e.send("GET", e.osmURL+q, "", ""); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	t0 := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	t.Run("G1: an older fix is kept but the marker stays", func(t *testing.T) {
		id, tok := e.newDevice("p-g1", "g1")
		send(tok, t0.Add(30*time.Second), 1)
		send(tok, t0, 2)
		version, recordedAt, _ := e.live(id)
		if n := len(e.storedHistory(id)); n != 2 || version != 1 || !recordedAt.Equal(t0.Add(30*time.Second)) {
			t.Fatalf("rows %d, version %d, live fix at %v", n, version, recordedAt)
		}
	})
	t.Run("G2: the same fix twice is one row and one version", func(t *testing.T) {
		id, tok := e.newDevice("p-g2", "g2")
		send(tok, t0, 1)
		send(tok, t0, 1)
		if version, _, _ := e.live(id); len(e.storedHistory(id)) != 1 || version != 1 {
			t.Fatalf("rows %d, version %d", len(e.storedHistory(id)), version)
		}
	})
}

func TestOsmAndAppliesJSONBatchesWhole(t *testing.T) {
	e := osmNewEnv(t)
	loc := func(at string, lat string) string {
		return `{"location":{"timestamp":"` + at + `","coords":{"latitude":` + lat + `,"longitude":2,"speed":-1}},"device_id":"{dev}"}`
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	cases := []struct {
		name, body string
		status     int
		rows       int
		message    string
	}{
		{"an array of three", "[" + loc("2025-01-01T10:00:00Z", "1") + "," + loc("2025-01-01T10:00:01Z", "1.1") + "," + loc("2025-01-01T10:00:02Z", "1.2") + "]", 200, 3, ""},
		{"batchSync's location array", `{"location":[{"timestamp":"2025-01-01T10:00:00Z","coords":{"latitude":1,"longitude":2}},{"timestamp":"2025-01-01T10:00:01Z","coords":{"latitude":1,"longitude":3}}],"device_id":"{dev}"}`, 200, 2, ""},
		{"one invalid item refuses all", "[" + loc("2025-01-01T10:00:00Z", "1") + "," + loc("2025-01-01T10:00:01Z", "91") + "]", 400, 0, "location 1: lat"},
		{"one item in the future refuses all", "[" + loc("2025-01-01T10:00:00Z", "1") + "," + loc(future, "1") + "]", 400, 0, "location 1: recorded_at"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dev := fmt.Sprint("batch-", i)
			id, tok := e.newDevice("p-"+dev, dev)
			r := e.send("POST", e.url+"/ingest/osmand", "application/json", strings.ReplaceAll(c.body, "{dev}", dev), "Authorization", "Bearer "+tok)
			if r.status != c.status || len(e.storedHistory(id)) != c.rows || !strings.Contains(string(r.body), c.message) {
				t.Fatalf("%d %s, %d rows", r.status, r.body, len(e.storedHistory(id)))
			}
			if c.status == 200 {
				if version, _, _ := e.live(id); version != int64(c.rows) {
					t.Fatalf("version %d after %d moves", version, c.rows)
				}
			} else if r.errorCode(t) != "invalid_location" {
				t.Fatalf("code %s", r.body)
			}
		})
	}
}

func TestOsmAndRefusesBadRequests(t *testing.T) {
	e := osmNewEnv(t)
	_, tok := e.newDevice("p-123456", "123456")
	soon := time.Now().Add(10 * time.Minute).Unix()
	cases := []struct {
		name, ctype, body, query string
		status                   int
		code                     string
	}{
		{"a body over 1 MiB", "application/x-www-form-urlencoded", "lat=1&lon=2&desc=" + strings.Repeat("x", 2<<20), "", http.StatusRequestEntityTooLarge, "body_too_large"},
		{"a fix ten minutes ahead", "", "", fmt.Sprintf("lat=1&lon=2&timestamp=%d", soon), 400, "invalid_location"},
		{"lat without lon", "", "", "lat=1", 400, "invalid_location"},
		{"a comma that is not a decimal comma", "", "", "lat=52,520,066&lon=13", 400, "invalid_location"},
		{"a time that is not one", "", "", "lat=1&lon=2&timestamp=yesterday", 400, "invalid_location"},
		{"broken JSON", "application/json", `{"location":`, "", 400, "invalid_json"},
		{"multipart", "multipart/form-data; boundary=x", "--x--", "", 415, "unsupported_media_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.send("POST", e.osmURL+"/?id=123456&"+c.query, c.ctype, c.body, "Authorization", "Bearer "+tok)
			if r.status != c.status || r.errorCode(t) != c.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
		})
	}
}
