package notify

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocket serves the live stream over WebSocket. An idle connection costs
// one small reader goroutine: the request's goroutine ends after the
// upgrade, and a writer goroutine runs only while the hub has queued
// something for the client (or it is time to ping or say goodbye).
type WebSocket struct {
	Hub    *Hub
	Source Source
	Log    *slog.Logger
	// Zero values take the defaults 30s, 60s and 10s.
	PingInterval, PongWait, WriteTimeout time.Duration

	once     sync.Once
	upgrader websocket.Upgrader
	open     atomic.Int64
}

// readLimit bounds a client message; a subscribe message is tiny.
const readLimit = 64 << 10

// Serve subscribes the client and upgrades the connection, which then lives
// on its own until the client leaves or the hub drops it. The api layer has
// authenticated the request and parsed the subscription (see ParseFilter,
// ParseCursor); its Scope is what the credentials allow.
func (ws *WebSocket) Serve(w http.ResponseWriter, r *http.Request, want Subscription) {
	ws.once.Do(ws.init)
	log := ws.logger()
	c := &wsConn{
		src:       ws.Source,
		pingEvery: orDefault(ws.PingInterval, 30*time.Second),
		pongWait:  orDefault(ws.PongWait, 60*time.Second),
		closed:    func() { ws.open.Add(-1) },
	}
	c.pump = pump{log: log, writeTimeout: orDefault(ws.WriteTimeout, 10*time.Second), transport: c}
	if c.subscribe(r, ws.Hub, ws.Source, want, "websocket") != nil {
		writeUnavailable(w)
		return
	}
	h := &hijacker{ResponseWriter: w}
	conn, err := ws.upgrader.Upgrade(h, r, nil)
	if err != nil {
		c.sub.Close()
		return // Upgrade has answered with an HTTP error
	}
	c.conn, c.raw, c.br = conn, h.raw, h.br
	ws.open.Add(1)
	c.start()
}

// Open counts the WebSocket connections not yet closed.
func (ws *WebSocket) Open() int64 { return ws.open.Load() }

func (ws *WebSocket) init() {
	ws.upgrader = websocket.Upgrader{
		// Not the server's 4 KiB bufio buffers, which are then freed: the
		// read buffer is the hijacker's small one (see idleReadBuffer).
		WriteBufferSize: 256,
		// Only control frames use gorilla's writer, and only while
		// writing; drained messages go out by writev (see flush).
		WriteBufferPool:  &sync.Pool{},
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      sameOriginOrNone,
	}
}

func (ws *WebSocket) logger() *slog.Logger {
	if ws.Log != nil {
		return ws.Log
	}
	return slog.Default()
}

// sameOriginOrNone accepts the map page served by this host and clients that
// send no Origin (phones, scripts: browsers always send one). It refuses
// other sites' pages, which could otherwise open a stream with a token they
// found in the victim's browser (cross-site WebSocket hijacking).
func sameOriginOrNone(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// closeFrame picks the close code and reason for the end of a stream, and
// whether a close frame is worth sending at all.
func (c *wsConn) closeFrame() (int, string, bool) {
	switch err := c.sub.Err(); {
	case errors.Is(err, ErrTooSlow):
		return websocket.ClosePolicyViolation, ErrTooSlow.Error(), true
	case errors.Is(err, ErrHubClosed):
		return websocket.CloseGoingAway, ErrHubClosed.Error(), true
	case err != nil: // the snapshot for a new filter failed
		return websocket.CloseTryAgainLater, "unavailable: retry later", true
	}
	if c.readEnd.Load() == readPeerClosed && !c.writeFailed.Load() {
		return websocket.CloseNormalClosure, "", true
	}
	return 0, "", false // the connection broke, one way or the other
}

// writeUnavailable answers a stream request the hub could not serve, before
// any of the stream went out.
func writeUnavailable(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, `{"error":{"code":"unavailable","message":"the live stream is unavailable, retry later"}}`+"\n")
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
