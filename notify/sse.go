package notify

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// SSE serves the live stream as Server-Sent Events: for browsers and
// proxies that block WebSockets. Each message is one event whose type is the
// message's type, whose data is the message and whose id is its cursor, so
// the browser's automatic reconnect (Last-Event-ID) resumes where it left.
type SSE struct {
	Hub    *Hub
	Source Source
	Log    *slog.Logger
	// Zero values take 15s and 10s. Heartbeats keep proxies from timing out
	// a quiet stream and find dead clients.
	HeartbeatInterval, WriteTimeout time.Duration
}

// retryMillis is how long a browser waits before reconnecting.
const retryMillis = 2000

// Serve streams to one client until it leaves, the request context ends or
// the hub drops it (the client is told why in an error event, and
// reconnects). The api layer has authenticated the request and parsed want.
func (e *SSE) Serve(w http.ResponseWriter, r *http.Request, want Subscription) {
	ctx := r.Context()
	want.Transport = "sse"
	sub, err := e.Hub.Subscribe(ctx, e.Source, want)
	if err != nil {
		e.logger().Warn("notify: sse subscribe", "err", err)
		writeUnavailable(w)
		return
	}
	defer sub.Close()
	rc := http.NewResponseController(w)
	writeTimeout := orDefault(e.WriteTimeout, 10*time.Second)
	send := func(b []byte) error {
		if err := rc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)
	if send([]byte("retry: "+strconv.Itoa(retryMillis)+"\n\n")) != nil {
		return
	}
	beat := time.NewTicker(orDefault(e.HeartbeatInterval, 15*time.Second))
	defer beat.Stop()
	var msgs []Message
	var buf []byte
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			buf = appendEvent(buf[:0], goodbye(sub.Err()))
			send(buf)
			return
		case <-sub.Ready():
			msgs = sub.Next(msgs[:0])
			if len(msgs) == 0 {
				continue
			}
			buf = buf[:0]
			for _, m := range msgs {
				buf = appendEvent(buf, m)
			}
			clear(msgs)
			err = send(buf)
			if cap(buf) > 64<<10 {
				buf = nil // a burst or a snapshot: do not keep it per client
			}
		case <-beat.C:
			err = send([]byte(":\n\n"))
		}
		if err != nil {
			e.logger().Debug("notify: sse write", "err", err)
			return
		}
	}
}

// appendEvent frames one message. Its JSON never holds a raw newline (string
// newlines are escaped), so it fits on one data line.
func appendEvent(b []byte, m Message) []byte {
	if m.Cursor != 0 {
		b = append(b, "id: "...)
		b = strconv.AppendUint(b, m.Cursor, 10)
		b = append(b, '\n')
	}
	b = append(b, "event: "...)
	b = append(b, m.Type...)
	b = append(b, "\ndata: "...)
	b = append(b, m.JSON...)
	return append(b, "\n\n"...)
}

// goodbye is the error message that tells a client why its stream ends.
func goodbye(err error) Message {
	switch {
	case errors.Is(err, ErrTooSlow):
		return errorMessage("too_slow", ErrTooSlow.Error()+": resume from your last cursor")
	case errors.Is(err, ErrHubClosed):
		return errorMessage("shutting_down", ErrHubClosed.Error()+": reconnect")
	default:
		return errorMessage("unavailable", "the live stream is unavailable, retry later")
	}
}

func (e *SSE) logger() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

