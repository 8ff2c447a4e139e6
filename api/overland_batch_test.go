package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"whereabouts/api"
)

// ovlRealistic is one point with every property the app sends when
// "include tracking stats" is on (and those Dawarich-format senders add),
// pretty-printed as in the README.
func ovlRealistic(t *testing.T, i int, at time.Time) string {
	t.Helper()
	b, err := json.MarshalIndent(map[string]any{
		"type":     "Feature",
		"geometry": map[string]any{"type": "Point", "coordinates": []float64{-122.0305812 + float64(i)*1e-5, 37.3318005 + float64(i)*1e-5}},
		"properties": map[string]any{
			"timestamp": at.Format(time.RFC3339), "altitude": 31, "speed": 4, "horizontal_accuracy": 5,
			"vertical_accuracy": 3, "motion": []string{"driving", "stationary"}, "pauses": false,
			"activity": "automotive_navigation", "desired_accuracy": 100, "deferred": 1000,
			"significant_change": "disabled", "locations_in_payload": 1000, "tracking_mode": 2,
			"battery_state": "unplugged", "battery_level": 0.89, "device_id": "ada-iphone",
			"wifi": "Home Network 5GHz", "trip_id": "2024-05-01T09:00:00Z",
			"unique_id": "6E8A2C7B-3F0D-4B5E-9C1A-2D4F6B8E0A13",
			// Dawarich-format senders add these.
			"course": 271.4, "course_accuracy": 12.35, "speed_accuracy": 0.84,
		},
	}, "      ", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOverlandThousandPointsInOneTransaction(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	id, tok := s.newPerson("Ada")
	t0 := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	items := make([]string, 1000)
	for i := range items {
		items[i] = ovlRealistic(t, i, t0.Add(time.Duration(i)*time.Second))
	}
	body := "{\n  \"locations\": [\n" + strings.Join(items, ",\n") + "\n  ]\n}"
	if len(body) <= 1<<20 {
		t.Fatalf("the body is %d bytes, not over 1 MiB", len(body))
	}
	if r := s.ovlPost(tok, body); r.status != 200 || string(r.body) != `{"result":"ok"}` {
		t.Fatalf("%d %s", r.status, r.body)
	}
	rows := s.storedHistory(id)
	if len(rows) != 1000 {
		t.Fatalf("stored %d of 1000", len(rows))
	}
	if last := rows[999]; last.Hdg == nil || *last.Hdg != 271.4 || *last.Spd != 4 || *last.Alt != 31 {
		t.Fatalf("readings of the newest point: %+v", last)
	}
	if n := ovlTransactions(t, s.dsn, id); n != 1 {
		t.Fatalf("written by %d transactions", n)
	}
	if at, coords, _ := s.ovlMarker(id); at != "2024-05-01T09:16:39.000000Z" || coords[0] != -122.0305812+999e-5 {
		t.Fatalf("marker at %s %v, want the newest point", at, coords)
	}
}

func TestOverlandAppliesCurrent(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	id, tok := s.newPerson("Ada")
	body := `{"locations":[` + ovlAt("2024-05-01T09:00:00Z", 1, 1) + `,` + ovlAt("2024-05-01T09:00:10Z", 1.1, 1.1) +
		`],"current":` + ovlAt("2024-05-01T11:00:00Z", 2, 2) + `}`
	if r := s.ovlPost(tok, body); r.status != 200 || string(r.body) != `{"result":"ok"}` {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if n := len(s.storedHistory(id)); n != 3 {
		t.Fatalf("stored %d, want the batch and current", n)
	}
	if at, coords, _ := s.ovlMarker(id); at != "2024-05-01T11:00:00.000000Z" || coords[0] != 2.0 {
		t.Fatalf("marker at %s %v, want current", at, coords)
	}
}

func TestOverlandSkipsVisitsTripsAndAppEvents(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	id, tok := s.newPerson("Ada")
	visit := `{"type":"Feature","geometry":{"type":"Point","coordinates":[5,5]},"properties":{"timestamp":"2024-05-01T10:00:00Z","action":"visit","arrival_date":"2024-05-01T09:00:00Z","departure_date":null,"horizontal_accuracy":30}}`
	oldVisit := `{"type":"Feature","geometry":{"type":"Point","coordinates":[6,6]},"properties":{"timestamp":"2024-05-01T10:00:00Z","type":"visit"}}`
	trip := `{"type":"Feature","geometry":{"type":"Point","coordinates":[7,7]},"properties":{"timestamp":"2024-05-01T10:00:00Z","type":"trip","mode":"bicycle","start":"2024-05-01T09:00:00Z","end":"2024-05-01T10:00:00Z","distance":1200,"steps":0}}`
	event := `{"type":"Feature","properties":{"timestamp":"2024-05-01T10:00:00Z","action":"paused_location_updates"}}`
	body := `{"locations":[` + visit + `,` + oldVisit + `,` + trip + `,` + event + `,` + ovlAt("2024-05-01T09:59:00Z", 1, 2) +
		`],"trip":{"mode":"car","start":"2024-05-01T09:00:00Z","distance":5,"start_location":null,"current_location":` + ovlAt("2024-05-01T10:00:05Z", 8, 8) + `}}`
	if r := s.ovlPost(tok, body); r.status != 200 || string(r.body) != `{"result":"ok"}` {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if rows := s.storedHistory(id); len(rows) != 1 || rows[0].Lon != 1 {
		t.Fatalf("stored %+v, want only the fix", rows)
	}
	t.Run("a batch with no fix at all is acknowledged", func(t *testing.T) {
		if r := s.ovlPost(tok, `{"locations":[`+visit+`,`+event+`]}`); r.status != 200 || string(r.body) != `{"result":"ok"}` {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

func TestOverlandOutOfOrderBatchKeepsTheMarkerAtTheNewest(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	id, tok := s.newPerson("Ada")
	body := ovlBatchOf(ovlAt("2024-05-01T10:00:30Z", 3, 3), ovlAt("2024-05-01T10:00:00Z", 1, 1), ovlAt("2024-05-01T10:00:10Z", 2, 2))
	if r := s.ovlPost(tok, body); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if n := len(s.storedHistory(id)); n != 3 {
		t.Fatalf("stored %d of 3", n)
	}
	if at, _, version := s.ovlMarker(id); at != "2024-05-01T10:00:30.000000Z" || version != 1 {
		t.Fatalf("marker at %s version %v: an older fix moved it", at, version)
	}
}

func TestOverlandBadPointsDoNotBlockTheQueue(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	id, tok := s.newPerson("Ada")
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	body := ovlBatchOf(ovlAt("2024-05-01T10:00:00Z", 1, 1), ovlAt("2024-05-01T10:00:01Z", 1, 91),
		ovlAt(future, 1, 1), ovlAt("2024-05-01T10:00:02Z", 2, 2))
	want := `{"result":"ok","rejected":[` +
		`{"index":1,"pointer":"/locations/1","error":{"code":"invalid_location","message":"lat 91 is outside [-90, 90]"}},` +
		`{"index":2,"pointer":"/locations/2","error":{"code":"invalid_location","message":"recorded_at is more than 5 minutes in the future"}}]}`
	for try := range 2 { // the second is the app resending: same answer, nothing stored twice
		if r := s.ovlPost(tok, body); r.status != 200 || string(r.body) != want {
			t.Fatalf("try %d: %d %s", try, r.status, r.body)
		}
	}
	if n := len(s.storedHistory(id)); n != 2 {
		t.Fatalf("stored %d, want the 2 good points", n)
	}
}

func TestOverlandRefusesOversizedBatches(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	id, tok := s.newPerson("Ada")
	point := ovlAt("2024-05-01T10:00:00Z", 1, 1)
	cases := []struct{ name, body string }{
		{"10,001 points", ovlBatchOf(strings.Split(strings.Repeat(point+"\x00", api.MaxBatch+1), "\x00")[:api.MaxBatch+1]...)},
		{"a 20 MiB body", `{"locations":[` + point + `],"pad":"` + strings.Repeat("x", 20<<20) + `"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.ovlPost(tok, c.body)
			if r.status != 413 || r.errorCode(t) != "body_too_large" {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	t.Run("a 20 MiB body sent chunked, without Content-Length", func(t *testing.T) {
		body := io.MultiReader(strings.NewReader(`{"locations":[`+point+`],"pad":"`), io.LimitReader(ovlXs{}, 20<<20), strings.NewReader(`"}`))
		req, err := http.NewRequest("POST", s.url+"/ingest/overland", body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		r := response{status: resp.StatusCode, header: resp.Header, body: b}
		if req.ContentLength != 0 || r.status != 413 || r.errorCode(t) != "body_too_large" {
			t.Fatalf("length %d: %d %s", req.ContentLength, r.status, r.body)
		}
	})
	if n := len(s.storedHistory(id)); n != 0 {
		t.Fatalf("an oversized batch stored %d rows", n)
	}
}

// ovlXs is an endless stream of "x".
type ovlXs struct{}

func (ovlXs) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}
