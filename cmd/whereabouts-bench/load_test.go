package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The load generator's own HTTP client: one keep-alive connection per
// worker, bodies read, non-2xx answers counted as errors.
func TestLoadKeepsConnectionsAlive(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if string(body) == "bad" {
			http.Error(w, "no", http.StatusUnprocessableEntity)
			return
		}
		io.WriteString(w, `{"accepted":`+string(body)+`}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	send := func(body string) makeRequest {
		return func(*worker) request { return request{Method: http.MethodPost, Path: "/", Body: []byte(body)} }
	}
	addr := srv.Listener.Addr().String()
	res := load(context.Background(), addr, 3, 50*time.Millisecond, 200*time.Millisecond, send("2"), acceptedCount)
	if res.Requests == 0 || res.Errors != 0 || res.Units != 2*int64(res.Requests) {
		t.Fatalf("good requests: %d answered, %d units, %d errors (%s)", res.Requests, res.Units, res.Errors, res.FirstErr)
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections for 3 workers, want one each", n)
	}
	res = load(context.Background(), addr, 1, 0, 50*time.Millisecond, send("bad"), oneEach)
	if res.Requests != 0 || res.Errors == 0 || !strings.HasPrefix(res.FirstErr, "422") {
		t.Fatalf("bad requests: %d answered, %d errors, first %q", res.Requests, res.Errors, res.FirstErr)
	}
}

// Cancelling the run interrupts a request the server never answers.
func TestLoadStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	load(ctx, srv.Listener.Addr().String(), 2, 0, time.Minute, func(*worker) request {
		return request{Method: http.MethodGet, Path: "/"}
	}, oneEach)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("load returned %v after cancellation", d)
	}
}

// The lean client reads each framing net/http's server uses: a
// Content-Length, a chunked body (a large answer, flushed in parts) and an
// answer that closes the connection, after which it dials again.
func TestKeepAliveReadsEveryFraming(t *testing.T) {
	big := strings.Repeat("x", 20000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "headers", http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/chunked":
			io.WriteString(w, big[:10000])
			w.(http.Flusher).Flush()
			io.WriteString(w, big[10000:])
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		default:
			body, _ := io.ReadAll(r.Body)
			w.Write(body)
		}
	}))
	defer srv.Close()
	k := keepAlive{addr: srv.Listener.Addr().String()}
	defer k.close()
	var body bytes.Buffer
	for _, c := range []struct{ path, want string }{
		{"/echo", "hello"}, {"/chunked", big}, {"/echo", "again"}, {"/close", "bye"}, {"/echo", "redialled"},
	} {
		msg := c.want
		if c.path != "/echo" {
			msg = "{}"
		}
		status, err := k.do(context.Background(), request{Method: http.MethodPost, Path: c.path, Token: "t", Body: []byte(msg)}, &body)
		if err != nil || status != http.StatusOK || body.String() != c.want {
			t.Fatalf("%s: status %d, err %v, body %.40q (%d bytes), want %.40q", c.path, status, err, body.String(), body.Len(), c.want)
		}
		if c.path == "/close" && k.conn != nil {
			t.Fatal("connection kept after Connection: close")
		}
	}
}
