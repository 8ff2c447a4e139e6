package notify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocket serves the live stream over WebSocket: one reader goroutine for
// subscribe messages, one writer that drains the subscriber's queue.
type WebSocket struct {
	Hub    *Hub
	Source Source
	Log    *slog.Logger
	// Zero values take the defaults 30s, 60s and 10s.
	PingInterval, PongWait, WriteTimeout time.Duration

	once     sync.Once
	upgrader websocket.Upgrader
}

// readLimit bounds a client message; a subscribe message is tiny.
const readLimit = 64 << 10

// Serve streams to one client until it leaves, the request context ends or
// the hub drops it. The api layer has authenticated the request and parsed
// the subscription (see ParseFilter, ParseCursor); its Scope is what the
// credentials allow. Serve returns only after its goroutines have stopped.
func (ws *WebSocket) Serve(w http.ResponseWriter, r *http.Request, want Subscription) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	log := ws.logger()
	// Subscribe before upgrading: a database that cannot give a snapshot
	// is still an HTTP status the client and load balancer understand.
	want.Transport = "websocket"
	sub, err := ws.Hub.Subscribe(ctx, ws.Source, want)
	if err != nil {
		log.Warn("notify: websocket subscribe", "err", err)
		writeUnavailable(w)
		return
	}
	defer sub.Close()
	ws.once.Do(ws.init)
	conn, err := ws.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with an HTTP error
	}
	c := &wsConn{
		conn: conn, sub: sub, src: ws.Source, log: log,
		pingEvery:    orDefault(ws.PingInterval, 30*time.Second),
		pongWait:     orDefault(ws.PongWait, 60*time.Second),
		writeTimeout: orDefault(ws.WriteTimeout, 10*time.Second),
		pongs:        make(chan string, 1),
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer cancel() // a reader that stops ends the writer too
		c.read(ctx)
	}()
	if c.write(ctx) {
		// Give the client a moment to answer our close frame, so the
		// close reason is not lost to a TCP reset.
		select {
		case <-readerDone:
		case <-time.After(c.writeTimeout):
		}
	}
	conn.Close() // unblocks the reader
	<-readerDone
}

func (ws *WebSocket) init() {
	ws.upgrader = websocket.Upgrader{
		ReadBufferSize:  512,
		WriteBufferSize: 1024,
		// Only control frames use gorilla's writer; a pool keeps idle
		// connections from each holding a write buffer.
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
	switch c.readEnd.Load() {
	case readPeerClosed:
		return websocket.CloseNormalClosure, "", true
	case readFailed:
		return 0, "", false
	case readRunning: // the request context ended: the server is going away
	}
	return websocket.CloseGoingAway, "going away", true
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
