package notify

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsEnv is a real HTTP server whose handler does what the api layer does:
// parse the filter and call Serve.
type wsEnv struct {
	hub    *Hub
	src    *fakeSource
	ws     *WebSocket
	srv    *httptest.Server
	active atomic.Int64 // Serve calls that have not returned
}

func newWSEnv(t *testing.T, cfg HubConfig, ws *WebSocket, scope Scope) *wsEnv {
	t.Helper()
	e := &wsEnv{hub: newHub(cfg), src: newFakeSource(), ws: ws}
	ws.Hub, ws.Source, ws.Log = e.hub, e.src, slog.New(slog.DiscardHandler)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := ParseFilter(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.active.Add(1)
		defer e.active.Add(-1)
		ws.Serve(w, r, Subscription{Filter: f, Scope: scope})
	}))
	t.Cleanup(func() {
		e.hub.Close()
		e.srv.Close()
		e.waitServeReturns(t)
	})
	return e
}

func (e *wsEnv) waitServeReturns(t *testing.T) {
	t.Helper()
	waitFor(t, "every Serve to return", func() bool { return e.active.Load() == 0 })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *wsEnv) dial(t *testing.T, query string, d *websocket.Dialer, h http.Header) *websocket.Conn {
	t.Helper()
	if d == nil {
		d = websocket.DefaultDialer
	}
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/api/v1/stream?" + query
	c, resp, err := d.Dial(u, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", u, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("message type %d, want text", typ)
	}
	return summarizeOne(t, data)
}

func send(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// readClose reads until the server's close frame and returns it.
func readClose(t *testing.T, c *websocket.Conn) *websocket.CloseError {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("connection ended with %v, want a close frame", err)
		}
		return ce
	}
}

// paddedFeature is a Feature whose update message is exactly n bytes.
func paddedFeature(t *testing.T, id int64, n int) []byte {
	t.Helper()
	build := func(pad int) []byte {
		return fmt.Appendf(nil, `{"type":"Feature","id":%d,"geometry":{"type":"Point","coordinates":[1,2]},`+
			`"properties":{"version":1,"pad":"%s"}}`, id, strings.Repeat("x", pad))
	}
	f := build(n - len(updateJSON(build(0), 0)))
	if len(updateJSON(f, 0)) != n {
		t.Fatalf("cannot pad a message to %d bytes", n)
	}
	return f
}
