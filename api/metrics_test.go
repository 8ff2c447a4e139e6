package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"whereabouts/api"
)

// metrics scrapes /metrics and returns the text exposition.
func (s *service) metrics() string {
	s.t.Helper()
	r := s.call("GET", "/metrics", "", "")
	if r.status != http.StatusOK {
		s.t.Fatalf("GET /metrics: %d %s", r.status, r.body)
	}
	return string(r.body)
}

// sample returns the value of the series whose line starts with series
// (name and labels exactly as exposed), or "" when absent.
func sample(text, series string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

func TestMetricsCountWritesRequestsAndTheListener(t *testing.T) {
	s := newService(t, api.Config{})
	id, token := s.newPerson("ada")
	if r := s.call("GET", path(id, ""), token, ""); r.status != http.StatusOK {
		t.Fatalf("GET with the device token: %d %s", r.status, r.body)
	}

	if r := s.call("PUT", path(id, "/location"), adminToken, `{"lat":51.5,"lon":-0.1,"recorded_at":`+nowJSON(-time.Minute)+`}`); r.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	if r := s.call("PUT", path(id, "/location"), adminToken, `{"lat":91,"lon":0}`); r.status != http.StatusBadRequest || r.errorCode(t) != "invalid_location" {
		t.Fatalf("PUT lat 91: %d %s", r.status, r.body)
	}
	batch := fmt.Sprintf(`[{"person_id":%d,"lat":51.6,"lon":-0.2,"recorded_at":%s},
		{"person_id":%d,"lat":0,"lon":0,"recorded_at":%s},
		{"person_id":%d,"lat":91,"lon":0}]`, id, nowJSON(-30*time.Second), id, nowJSON(-20*time.Second), id)
	if r := s.call("POST", "/api/v1/locations", adminToken, batch); r.status != http.StatusOK {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}

	sse := openSSE(t, s.url+"/api/v1/events?access_token="+adminToken, "")
	if m := sse.next(t); m.Type != "snapshot" {
		t.Fatalf("SSE opened with %+v", m)
	}

	// The listener hears the commits asynchronously: poll.
	var text string
	deadline := time.Now().Add(5 * time.Second)
	for {
		text = s.metrics()
		if v := sample(text, "whereabouts_notifications_received_total"); v != "" && v != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no notification counted:\n%s", text)
		}
		time.Sleep(20 * time.Millisecond)
	}

	for series, want := range map[string]string{
		`whereabouts_positions_total{reason="stored",result="accepted"}`:              "2",
		`whereabouts_positions_total{reason="flagged_null_island",result="accepted"}`: "1",
		`whereabouts_positions_total{reason="invalid_location",result="rejected"}`:    "2",
		`whereabouts_listener_ready`:                                                                           "1",
		`whereabouts_device_tokens_cached`:                                                                     "1",
		`whereabouts_stream_subscribers{transport="websocket"}`:                                                "0",
		`whereabouts_stream_connections{transport="sse"}`:                                                      "1",
		`whereabouts_stream_subscribers{transport="sse"}`:                                                      "1",
		`whereabouts_notification_decode_failures_total`:                                                       "0",
		`whereabouts_listener_reconnects_total`:                                                                "0",
		`whereabouts_http_request_duration_seconds_count{code="2xx",route="PUT /api/v1/people/{id}/location"}`: "1",
		`whereabouts_http_request_duration_seconds_count{code="4xx",route="PUT /api/v1/people/{id}/location"}`: "1",
		`whereabouts_http_request_duration_seconds_count{code="2xx",route="POST /api/v1/locations"}`:           "1",
	} {
		if got := sample(text, series); got != want {
			t.Errorf("%s = %q, want %q", series, got, want)
		}
	}
	if got := sample(text, "whereabouts_group_commit_rows_count"); got == "" || got == "0" {
		t.Errorf("whereabouts_group_commit_rows_count = %q, want ≥ 1", got)
	}
	if strings.Contains(text, `route="/api/v1/people/`) {
		t.Errorf("a raw path is used as a route label:\n%s", text)
	}
}
