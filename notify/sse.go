package notify

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// SSE serves the live stream as Server-Sent Events: for browsers and
// proxies that block WebSockets. Each message is one event whose type is the
// message's type, whose data is the message and whose id is its cursor, so
// the browser's automatic reconnect (Last-Event-ID) resumes where it left.
//
// It takes the connection over, as the WebSocket does, and answers with a
// plain HTTP/1.1 body that ends when the connection closes: drained events
// then go out in one writev like WebSocket frames (through net/http each
// batch cost a copy, a chunk header and a flush), and an idle stream keeps
// one small goroutine waiting for the client to hang up.
type SSE struct {
	Hub    *Hub
	Source Source
	Log    *slog.Logger
	// Zero values take 15s and 10s. Heartbeats keep proxies from timing out
	// a quiet stream and find dead clients.
	HeartbeatInterval, WriteTimeout time.Duration

	open atomic.Int64
}

// retryMillisText is how long a browser waits before reconnecting, in ms.
const retryMillisText = "2000"

const sseHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n" +
	"X-Accel-Buffering: no\r\nConnection: close\r\n\r\n" + // no buffering in nginx
	"retry: " + retryMillisText + "\n\n"

// Serve subscribes the client and takes its connection over; the stream
// then lives on its own until the client leaves or the hub drops it (the
// client is told why in an error event, and reconnects). The api layer has
// authenticated the request and parsed want.
func (e *SSE) Serve(w http.ResponseWriter, r *http.Request, want Subscription) {
	log := e.logger()
	c := &sseConn{beatEvery: orDefault(e.HeartbeatInterval, 15*time.Second), closed: func() { e.open.Add(-1) }}
	c.pump = pump{log: log, writeTimeout: orDefault(e.WriteTimeout, 10*time.Second), transport: c}
	if c.subscribe(r, e.Hub, e.Source, want, "sse") != nil {
		writeUnavailable(w)
		return
	}
	raw, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		c.sub.Close()
		log.Warn("notify: sse needs an HTTP/1.1 connection", "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusHTTPVersionNotSupported)
		io.WriteString(w, `{"error":{"code":"http_version_not_supported","message":"server-sent events are served over HTTP/1.1; use the WebSocket or long-polling"}}`+"\n")
		return
	}
	c.raw = raw
	head := net.Buffers{[]byte(sseHead)}
	if err := c.write(&head); err != nil {
		c.sub.Close()
		raw.Close()
		return
	}
	e.open.Add(1)
	c.beat = time.AfterFunc(c.beatEvery, c.sendBeat)
	go c.read()
	c.begin()
}

// Open counts the SSE connections not yet closed.
func (e *SSE) Open() int64 { return e.open.Load() }

func (e *SSE) logger() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// sseConn is one SSE client.
type sseConn struct {
	pump
	beatEvery time.Duration
	beat      *time.Timer
	closed    func()
	hungUp    atomic.Bool
	gone      atomic.Bool
}

var eventEnd = []byte("\n\n")

// frame writes m as an event; its JSON never holds a raw newline (string
// newlines are escaped), so it fits on one data line. The blank line that
// ends an event starts the next one's head, so an event is two buffers of a
// writev, not three (the kernel copies each separately).
func (c *sseConn) frame(sc *scratch, m Message, last bool) {
	var b [maxHead]byte
	h := b[:0]
	if len(sc.bufs) > 0 {
		h = append(h, eventEnd...)
	}
	if m.Cursor != 0 {
		h = append(h, "id: "...)
		h = strconv.AppendUint(h, m.Cursor, 10)
		h = append(h, '\n')
	}
	h = append(h, "event: "...)
	h = append(h, m.Type...)
	h = append(h, "\ndata: "...)
	sc.head(h)
	sc.bufs = append(sc.bufs, m.JSON)
	if last {
		sc.bufs = append(sc.bufs, eventEnd)
	}
}

// read waits for the client to hang up: it sends nothing after its request.
func (c *sseConn) read() {
	var b [64]byte
	for {
		waitSocket(c.raw)
		if _, err := c.raw.Read(b[:]); err != nil {
			c.hungUp.Store(true)
			c.sub.Close() // wakes a writer for the goodbye
			return
		}
	}
}

// goodbye tells a client that is still there why its stream ends, then
// closes the connection.
func (c *sseConn) goodbye() {
	if err := c.sub.Err(); err != nil && !c.hungUp.Load() && !c.writeFailed.Load() {
		var sc scratch
		c.frame(&sc, goodbyeMessage(err), true)
		c.write(&sc.bufs)
	}
	c.gone.Store(true)
	c.beat.Stop()
	c.raw.Close()
	c.closed()
}

func (c *sseConn) sendBeat() {
	beat := net.Buffers{[]byte(":\n\n")}
	if err := c.write(&beat); err != nil {
		c.writeFailed.Store(true)
		c.sub.Close()
		return
	}
	if !c.gone.Load() {
		c.beat.Reset(c.beatEvery)
	}
}

// goodbyeMessage is the error message that tells a client why its stream ends.
func goodbyeMessage(err error) Message {
	switch {
	case errors.Is(err, ErrTooSlow):
		return errorMessage("too_slow", ErrTooSlow.Error()+": resume from your last cursor")
	case errors.Is(err, ErrHubClosed):
		return errorMessage("shutting_down", ErrHubClosed.Error()+": reconnect")
	default:
		return errorMessage("unavailable", "the live stream is unavailable, retry later")
	}
}
