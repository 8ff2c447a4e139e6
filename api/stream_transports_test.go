package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"whereabouts/api"
)

type pollAnswer struct {
	Cursor   string      `json:"cursor"`
	Messages []streamMsg `json:"messages"`
}

func (s *service) poll(t *testing.T, query string) (pollAnswer, time.Duration) {
	t.Helper()
	start := time.Now()
	r := s.call("GET", "/api/v1/poll?"+query, adminToken, "")
	took := time.Since(start)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("poll %s: %d %s %s", query, r.status, r.header.Get("Content-Type"), r.body)
	}
	var a pollAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("poll answer %s: %v", r.body, err)
	}
	if _, err := strconv.ParseUint(a.Cursor, 10, 64); err != nil {
		t.Fatalf("poll cursor %q is not what the API documents", a.Cursor)
	}
	return a, took
}

func TestPollAnswersAtOnceWithChangesAndHoldsWithout(t *testing.T) {
	s := newService(t, api.Config{})
	id, _ := s.newPerson("Ada")
	s.call("PUT", path(id, "/location"), adminToken, `{"lat": 1, "lon": 2}`)

	a, _ := s.poll(t, "")
	if len(a.Messages) != 1 || a.Messages[0].Type != "snapshot" || len(a.Messages[0].Features) != 1 {
		t.Fatalf("first poll: %+v, want one snapshot with Ada", a)
	}

	// The listener may publish the move after the snapshot was read: the
	// next poll may repeat it (clients drop repeats by version), but then
	// a poll must wait out the timeout.
	quiet, took := s.poll(t, "cursor="+a.Cursor)
	for i := 0; len(quiet.Messages) > 0; i++ {
		for _, m := range quiet.Messages {
			if m.Type != "update" || m.Feature.ID != id || m.Feature.Properties.Version != 1 {
				t.Fatalf("poll with nothing new: %+v, want nothing or a repeat of version 1", m)
			}
		}
		if i == 3 {
			t.Fatal("polls with nothing new keep answering at once")
		}
		quiet, took = s.poll(t, "cursor="+quiet.Cursor)
	}
	if took < pollTimeout-100*time.Millisecond {
		t.Fatalf("poll with nothing new: answered after %v, want the %v timeout", took, pollTimeout)
	}
	if c, _ := strconv.ParseUint(quiet.Cursor, 10, 64); c < mustUint(t, a.Cursor) {
		t.Fatalf("an empty poll moved the cursor back from %s to %s", a.Cursor, quiet.Cursor)
	}

	go func() {
		time.Sleep(300 * time.Millisecond)
		s.call("PUT", path(id, "/location"), adminToken, `{"lat": 3, "lon": 4}`)
	}()
	moved, took := s.poll(t, "cursor="+quiet.Cursor)
	if len(moved.Messages) == 0 || took >= pollTimeout-100*time.Millisecond { // answered by the move, not the timeout
		t.Fatalf("poll during a move: %d messages after %v, want the move before the timeout", len(moved.Messages), took)
	}
	last := moved.Messages[len(moved.Messages)-1]
	if last.Type != "update" || last.Feature.ID != id || last.Feature.Properties.Version != 2 {
		t.Fatalf("poll during a move: %+v, want Ada's version 2", moved.Messages)
	}
}

func TestStreamCursorFromElsewhereGetsASnapshotSayingSo(t *testing.T) {
	s := newService(t, api.Config{})
	id, _ := s.newPerson("Ada")
	s.call("PUT", path(id, "/location"), adminToken, `{"lat": 1, "lon": 2}`)
	// A cursor beyond anything this database handed out: a restored backup
	// or another deployment.
	const foreign = "9000000000000"
	a, _ := s.poll(t, "cursor="+foreign)
	if len(a.Messages) != 1 || a.Messages[0].Type != "snapshot" || a.Messages[0].Reason != "cursor_expired" {
		t.Fatalf("poll: %+v, want a snapshot with reason cursor_expired", a)
	}
	if a.Cursor != a.Messages[0].Cursor {
		t.Fatalf("poll answered cursor %s with a snapshot at %s: the next poll would ask with a cursor from elsewhere again", a.Cursor, a.Messages[0].Cursor)
	}
	for _, transport := range []string{"websocket", "sse"} {
		c := openStream(t, s, transport, "", foreign)
		if m := c.next(t); m.Type != "snapshot" || m.Reason != "cursor_expired" || len(m.Features) != 1 {
			t.Errorf("%s: %+v, want a snapshot of Ada with reason cursor_expired", transport, m)
		}
		c.close()
	}
}

func TestStreamTransportsRefuseABadCursorOrNoToken(t *testing.T) {
	s := newService(t, api.Config{})
	for _, p := range []string{"/api/v1/poll", "/api/v1/events", "/api/v1/stream"} {
		for _, cursor := range []string{"abc", "-1", "0", "1.5", "99999999999999999999999"} {
			r := s.call("GET", p+"?cursor="+cursor, adminToken, "")
			if r.status != http.StatusBadRequest || r.errorCode(t) != "invalid_parameter" {
				t.Errorf("%s cursor %q: %d %s, want 400 invalid_parameter", p, cursor, r.status, r.body)
			}
		}
		if r := s.call("GET", p, "", ""); r.status != http.StatusUnauthorized || r.errorCode(t) != "unauthorized" {
			t.Errorf("%s without a token: %d %s, want 401", p, r.status, r.body)
		}
		if r := s.call("GET", p+"?bbox=1,2,3", adminToken, ""); r.status != http.StatusBadRequest {
			t.Errorf("%s with a bad bbox: %d %s, want 400", p, r.status, r.body)
		}
	}
	req, _ := http.NewRequest("GET", s.url+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Last-Event-ID", "garbage")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("events with Last-Event-ID garbage: %d, want 400", resp.StatusCode)
	}
}

func TestEventsScopeADeviceThatMayNotSeeOthers(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: false})
	me, token := s.newPerson("Me")
	other, _ := s.newPerson("Other")
	for _, id := range []int64{me, other} {
		s.call("PUT", path(id, "/location"), adminToken, `{"lat": 1, "lon": 2}`)
	}
	c := openSSE(t, s.url+"/api/v1/events?access_token="+token, "")
	m := c.next(t)
	if m.Type != "snapshot" || len(m.Features) != 1 || m.Features[0].ID != me {
		t.Fatalf("device snapshot: %+v, want only itself", m)
	}
	s.call("PUT", path(other, "/location"), adminToken, `{"lat": 5, "lon": 6}`)
	s.call("PUT", path(me, "/location"), token, `{"lat": 3, "lon": 4}`)
	if m := c.next(t); m.Type != "update" || m.Feature.ID != me {
		t.Fatalf("device stream: %+v, want only its own move", m)
	}
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
