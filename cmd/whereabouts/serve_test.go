package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"whereabouts/pgcluster/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// syncBuffer collects the server's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startServe runs `whereabouts serve` in-process, as main would, and returns
// its URL and a stop function that sends the shutdown and waits for run to
// return.
func startServe(t *testing.T, env map[string]string, args ...string) (string, func() error, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	// A later -data-dir in args wins; the default keeps tokens out of the repo.
	args = append([]string{"serve", "-addr", "127.0.0.1:0", "-data-dir", t.TempDir()}, args...)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, out) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			stop := sync.OnceValue(func() error { cancel(); return <-done })
			t.Cleanup(func() { stop() })
			waitReady(t, m[1])
			return m[1], stop, out
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\n%s", err, out)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve did not start:\n%s", out)
	return "", nil, nil
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	for range 400 {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("never ready")
}

func TestServeWithoutADatabaseURLRunsAndStopsAnEmbeddedCluster(t *testing.T) {
	base, err := os.MkdirTemp("", "whserve-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	os.Chmod(base, 0o755) // the postgres user must reach the cluster inside
	dataDir := filepath.Join(base, "data")
	url, stop, out := startServe(t, nil, "-data-dir", dataDir, "-tile-url", "none")
	token, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	if err != nil || !strings.Contains(out.String(), strings.TrimSpace(string(token))) {
		t.Fatalf("generated admin token not printed: %v\n%s", err, out)
	}
	req, _ := http.NewRequest("GET", url+"/api/v1/people", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("list people with the generated token: %v %v", err, resp)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postgres", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("embedded PostgreSQL still running after shutdown (postmaster.pid: %v)", err)
	}
	// A second start reuses the cluster and the token, and prints no new one.
	_, stop, out = startServe(t, nil, "-data-dir", dataDir, "-tile-url", "none")
	if strings.Contains(out.String(), "Generated an admin token") {
		t.Fatal("a new admin token was generated on the second start")
	}
	stop()
}

func TestServeFailsAtOnceWhenThePortIsBusy(t *testing.T) {
	url, _, _ := startServe(t, nil, "-database-url", pgtest.NewDB(t))
	addr := strings.TrimPrefix(url, "http://")
	err := run(context.Background(), []string{"serve", "-addr", addr, "-data-dir", t.TempDir()}, func(string) string { return "" }, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("second serve on %s: %v", addr, err)
	}
}

func TestServeOpensTheOsmAndPortWhenAsked(t *testing.T) {
	_, _, out := startServe(t, nil, "-database-url", pgtest.NewDB(t), "-osmand-addr", "127.0.0.1:0")
	m := regexp.MustCompile(`OsmAnd/Traccar protocol on (http://\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no OsmAnd port announced:\n%s", out)
	}
	// Any path is the adapter there; no device id is its 400.
	resp, err := http.Get(m[1] + "/?lat=1&lon=2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("OsmAnd port answered %d to a request without a device", resp.StatusCode)
	}
}

// The pool's settings ride on the database URL (pgxpool reads pool_*
// parameters); the connections that are not pooled (migrations, the
// listener) must take the same URL without passing them to PostgreSQL as
// session settings, which it refuses.
func TestServeTakesPoolSettingsInTheDatabaseURL(t *testing.T) {
	dsn := pgtest.NewEmptyDB(t)
	base, _, out := startServe(t, map[string]string{
		"WHEREABOUTS_ADMIN_TOKEN":  "admin-secret",
		"WHEREABOUTS_DATABASE_URL": dsn + "&pool_max_conns=3&pool_min_conns=1",
	})
	var created struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	if status := request(t, "POST", base+"/api/v1/people", "admin-secret", `{"name":"Pool"}`, &created); status != 201 {
		t.Fatalf("create: %d\n%s", status, out)
	}
	if status := request(t, "PUT", fmt.Sprintf("%s/api/v1/people/%d/location", base, created.ID), created.Token, `{"lat":52.37,"lon":4.89}`, nil); status != 200 {
		t.Fatalf("move: %d\n%s", status, out)
	}
}
