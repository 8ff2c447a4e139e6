package main

import (
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
		return func(ctx context.Context, _ *worker) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(body))
		}
	}
	res := load(context.Background(), 3, 50*time.Millisecond, 200*time.Millisecond, send("2"), acceptedCount)
	if res.Requests == 0 || res.Errors != 0 || res.Units != 2*int64(res.Requests) {
		t.Fatalf("good requests: %d answered, %d units, %d errors (%s)", res.Requests, res.Units, res.Errors, res.FirstErr)
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections for 3 workers, want one each", n)
	}
	res = load(context.Background(), 1, 0, 50*time.Millisecond, send("bad"), oneEach)
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
	load(ctx, 2, 0, time.Minute, func(ctx context.Context, _ *worker) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	}, oneEach)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("load returned %v after cancellation", d)
	}
}
