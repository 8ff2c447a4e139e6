package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// streamMsg is any stream message, on any transport.
type streamMsg struct {
	Type     string        `json:"type"`
	Cursor   string        `json:"cursor"`
	Reason   string        `json:"reason"`
	Features []geoFeature  `json:"features"`
	Feature  *geoFeature   `json:"feature"`
	ID       int64         `json:"id"`
	Error    *errorPayload `json:"error"`
}

type errorPayload struct{ Code, Message string }

type geoFeature struct {
	ID       int64 `json:"id"`
	Geometry struct {
		Coordinates [2]float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties struct {
		Version int64 `json:"version"`
	} `json:"properties"`
}

// streamClient reads the live stream over one transport, the way a real
// client of that transport does.
type streamClient interface {
	// next returns the next message, or fails the test after 10 s.
	next(t *testing.T) streamMsg
	// resumeFrom is the cursor the client would reconnect with now.
	resumeFrom() string
	close()
}

// openStream connects over transport ("websocket", "sse" or "poll"),
// resuming after cursor unless it is empty.
func openStream(t *testing.T, s *service, transport, query, cursor string) streamClient {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	q.Set("access_token", adminToken)
	switch transport {
	case "websocket":
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		return &wsClient{c: dial(t, s, q.Encode())}
	case "sse":
		return openSSE(t, s.url+"/api/v1/events?"+q.Encode(), cursor)
	case "poll":
		return &pollClient{s: s, query: q, cursor: cursor}
	}
	t.Fatalf("unknown transport %q", transport)
	return nil
}

type wsClient struct {
	c    *websocket.Conn
	last string
}

func (w *wsClient) next(t *testing.T) streamMsg {
	t.Helper()
	w.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m streamMsg
	if err := w.c.ReadJSON(&m); err != nil {
		t.Fatalf("websocket read: %v", err)
	}
	if m.Cursor != "" {
		w.last = m.Cursor
	}
	return m
}

func (w *wsClient) resumeFrom() string { return w.last }
func (w *wsClient) close()             { w.c.Close() }

// sseClient is an EventSource: it resumes with Last-Event-ID, which is the
// id of the last event it received (not the highest).
type sseClient struct {
	cancel context.CancelFunc
	events chan sseEvent
	lastID string
}

type sseEvent struct {
	id, typ, data string
	err           error
}

func openSSE(t *testing.T, u, lastID string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{cancel: cancel, events: make(chan sseEvent, 1024), lastID: lastID}
	t.Cleanup(c.close)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "":
				if line == "" && ev.data != "" {
					c.events <- ev
					ev = sseEvent{}
				}
			case "id":
				ev.id = value
			case "event":
				ev.typ = value
			case "data":
				ev.data += value
			}
		}
		c.events <- sseEvent{err: fmt.Errorf("stream ended: %v", sc.Err())}
	}()
	return c
}

func (c *sseClient) next(t *testing.T) streamMsg {
	t.Helper()
	select {
	case ev := <-c.events:
		if ev.err != nil {
			t.Fatalf("sse: %v", ev.err)
		}
		var m streamMsg
		if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
			t.Fatalf("sse data %q: %v", ev.data, err)
		}
		if ev.typ != m.Type || ev.id != m.Cursor {
			t.Fatalf("sse event %q id %q carries a %q message with cursor %q", ev.typ, ev.id, m.Type, m.Cursor)
		}
		if ev.id != "" {
			c.lastID = ev.id
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("sse: no event within 10s")
	}
	return streamMsg{}
}

func (c *sseClient) resumeFrom() string { return c.lastID }
func (c *sseClient) close()             { c.cancel() }

// pollClient long-polls, sending each answer's cursor with the next poll.
type pollClient struct {
	s       *service
	query   url.Values
	cursor  string
	pending []streamMsg
}

func (p *pollClient) next(t *testing.T) streamMsg {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(p.pending) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("poll: no message within 10s")
		}
		q := url.Values{}
		for k, v := range p.query {
			q[k] = v
		}
		if p.cursor != "" {
			q.Set("cursor", p.cursor)
		}
		r := p.s.call("GET", "/api/v1/poll?"+q.Encode(), "", "")
		if r.status != http.StatusOK {
			t.Fatalf("poll: %d %s", r.status, r.body)
		}
		var a struct {
			Cursor   string      `json:"cursor"`
			Messages []streamMsg `json:"messages"`
		}
		if err := json.Unmarshal(r.body, &a); err != nil || a.Cursor == "" {
			t.Fatalf("poll answer %s: %v", r.body, err)
		}
		p.cursor = a.Cursor
		p.pending = a.Messages
	}
	m := p.pending[0]
	p.pending = p.pending[1:]
	return m
}

func (p *pollClient) resumeFrom() string { return p.cursor }
func (p *pollClient) close()             {}
