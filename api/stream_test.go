package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"whereabouts/api"
)

type message struct {
	Type     string            `json:"type"`
	Features []json.RawMessage `json:"features"`
	Feature  json.RawMessage   `json:"feature"`
	ID       int64             `json:"id"`
}

type wsFeature struct {
	ID         int64 `json:"id"`
	Properties struct {
		Version int64 `json:"version"`
	} `json:"properties"`
}

func dial(t *testing.T, s *service, query string) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(s.url, "http") + "/api/v1/stream?" + query
	c, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", query, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *websocket.Conn) message {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m message
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func featureOf(t *testing.T, raw json.RawMessage) wsFeature {
	t.Helper()
	var f wsFeature
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestStreamSendsSnapshotThenEveryUpdateInVersionOrder(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	waitReady(t, s)
	id, tok := s.newPerson("Ada")
	s.call("PUT", path(id, "/location"), tok, `{"lat":1,"lon":1}`)
	c := dial(t, s, "access_token="+adminToken)
	snap := read(t, c)
	if snap.Type != "snapshot" || len(snap.Features) != 1 || featureOf(t, snap.Features[0]).Properties.Version != 1 {
		t.Fatalf("snapshot: %+v", snap)
	}
	for i := range 20 {
		body := fmt.Sprintf(`{"lat":1,"lon":%g}`, 1+float64(i)/1000)
		if r := s.call("PUT", path(id, "/location"), tok, body); r.status != 200 {
			t.Fatalf("move %d: %d %s", i, r.status, r.body)
		}
	}
	for want := int64(2); want <= 21; want++ {
		m := read(t, c)
		if f := featureOf(t, m.Feature); m.Type != "update" || f.ID != id || f.Properties.Version != want {
			t.Fatalf("want update version %d, got %s %+v", want, m.Type, f)
		}
	}
	s.call("DELETE", path(id, ""), adminToken, "")
	if m := read(t, c); m.Type != "remove" || m.ID != id {
		t.Fatalf("want remove of %d, got %+v", id, m)
	}
}

func TestStreamNeedsAToken(t *testing.T) {
	s := newService(t, api.Config{})
	u := "ws" + strings.TrimPrefix(s.url, "http") + "/api/v1/stream"
	for _, q := range []string{"", "?access_token=wrong"} {
		_, resp, err := websocket.DefaultDialer.Dial(u+q, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial %q: err %v, response %v", q, err, resp)
		}
	}
	_, resp, err := websocket.DefaultDialer.Dial(u+"?access_token="+adminToken+"&bbox=1,2", nil)
	if err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad bbox: err %v, response %v", err, resp)
	}
}

func TestDeviceThatMayNotSeeOthersStreamsOnlyItself(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: false})
	waitReady(t, s)
	a, tokA := s.newPerson("A")
	b, tokB := s.newPerson("B")
	s.call("PUT", path(a, "/location"), tokA, `{"lat":1,"lon":1}`)
	s.call("PUT", path(b, "/location"), tokB, `{"lat":1,"lon":1}`)
	c := dial(t, s, fmt.Sprintf("access_token=%s&ids=%d,%d", tokA, a, b))
	if snap := read(t, c); len(snap.Features) != 1 || featureOf(t, snap.Features[0]).ID != a {
		t.Fatalf("snapshot for A: %+v", snap)
	}
	s.call("PUT", path(b, "/location"), tokB, `{"lat":2,"lon":2}`)
	s.call("PUT", path(a, "/location"), tokA, `{"lat":2,"lon":2}`)
	if m := read(t, c); featureOf(t, m.Feature).ID != a {
		t.Fatalf("A saw B's move: %+v", m)
	}
}

func TestStreamBBoxSendsTheMoveOutOnceAndFollowsSubscribe(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	waitReady(t, s)
	id, tok := s.newPerson("Ada")
	s.call("PUT", path(id, "/location"), tok, `{"lat":52.37,"lon":4.89}`)
	c := dial(t, s, "access_token="+adminToken+"&bbox=4.8,52.3,5.0,52.4")
	if snap := read(t, c); snap.Type != "snapshot" || len(snap.Features) != 1 {
		t.Fatalf("snapshot inside the box: %+v", snap)
	}
	s.call("PUT", path(id, "/location"), tok, `{"lat":48.85,"lon":2.35}`) // out: sent once
	s.call("PUT", path(id, "/location"), tok, `{"lat":48.86,"lon":2.36}`) // still out: not sent
	if m := read(t, c); m.Type != "update" || featureOf(t, m.Feature).Properties.Version != 2 {
		t.Fatalf("move out of the box: %+v", m)
	}
	// Pan to Paris: a fresh snapshot with Ada at version 3, then her moves.
	if err := c.WriteJSON(map[string]any{"type": "subscribe", "bbox": []float64{2, 48, 3, 49}}); err != nil {
		t.Fatal(err)
	}
	if snap := read(t, c); snap.Type != "snapshot" || len(snap.Features) != 1 || featureOf(t, snap.Features[0]).Properties.Version != 3 {
		t.Fatalf("snapshot after subscribe: %+v", snap)
	}
	s.call("PUT", path(id, "/location"), tok, `{"lat":48.87,"lon":2.37}`)
	if m := read(t, c); m.Type != "update" || featureOf(t, m.Feature).Properties.Version != 4 {
		t.Fatalf("move inside the new box: %+v", m)
	}
	if err := c.WriteJSON(map[string]any{"type": "subscribe", "bbox": []float64{1, 2}}); err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m.Type != "error" {
		t.Fatalf("a bad subscribe message: %+v", m)
	}
}
