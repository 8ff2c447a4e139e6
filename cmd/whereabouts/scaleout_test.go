package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"whereabouts/pgcluster/pgtest"
)

// findTool finds a program the tests run (in PATH or /usr/sbin), or fails
// the test saying how to install it.
func findTool(t *testing.T, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/" + name)
	}
	if err != nil {
		t.Fatalf("%s not found: run `make test` (it installs %[1]s) or apt-get install %[1]s", name)
	}
	return bin
}

// startNginx runs deploy/nginx.conf with its upstream pointed at backends,
// on a free loopback port, and returns its URL.
func startNginx(t *testing.T, backends ...string) string {
	t.Helper()
	bin := findTool(t, "nginx")
	conf, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	var servers strings.Builder
	for _, b := range backends {
		fmt.Fprintf(&servers, "server %s max_fails=1 fail_timeout=5s;\n", strings.TrimPrefix(b, "http://"))
	}
	c := regexp.MustCompile(`(?m)^\s*server app\d:8080[^\n]*\n`).ReplaceAllString(string(conf), "")
	c = strings.Replace(c, "keepalive 64;", servers.String()+"keepalive 64;", 1)
	c = strings.Replace(c, "listen 80;", "listen "+addr+";", 1)
	// One worker: each worker balances on its own, so with two a client's
	// instance depended on which worker accepted it, and once in CI no
	// WebSocket client landed on B. One worker alternates instances.
	c = strings.Replace(c, "worker_processes auto;", "worker_processes 1;", 1)
	c = strings.Replace(c, "access_log /dev/stdout", "access_log "+filepath.Join(dir, "access.log"), 1)
	c = "pid " + filepath.Join(dir, "nginx.pid") + ";\n" + c
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(c), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nginx: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if pid, err := os.ReadFile(filepath.Join(dir, "nginx.pid")); err == nil {
			var p int
			fmt.Sscan(string(pid), &p)
			syscall.Kill(p, syscall.SIGQUIT)
		}
	})
	return "http://" + addr
}

// streamClient keeps its own picture of everyone from stream messages, as
// the map page does, and when its connection ends reconnects with the last
// cursor it got, over a WebSocket or Server-Sent Events. Its connections
// close when the test ends.
type streamClient struct {
	t         *testing.T
	url       string
	sse       bool
	msgs      chan []byte // one stream message each; closed when the connection ends
	stop      func()
	cursor    string
	versions  map[int64]int64
	seen      map[int64][]int64 // every distinct version, in the order received
	redials   int
	snapshots int
}

func (c *streamClient) dial() {
	c.t.Helper()
	query := "?access_token=admin-secret"
	if c.cursor != "" && !c.sse {
		query += "&cursor=" + c.cursor
	}
	c.msgs = make(chan []byte, 64)
	if !c.sse {
		conn, _, err := websocket.DefaultDialer.Dial(strings.Replace(c.url, "http", "ws", 1)+"/api/v1/stream"+query, nil)
		if err != nil {
			c.t.Fatalf("dial through nginx: %v", err)
		}
		c.stop = func() { conn.Close() }
		c.t.Cleanup(c.stop)
		go func(msgs chan<- []byte) {
			defer close(msgs)
			for {
				_, data, err := conn.ReadMessage()
				if err != nil {
					return
				}
				msgs <- data
			}
		}(c.msgs)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.url+"/api/v1/events"+query, nil)
	if c.cursor != "" {
		req.Header.Set("Last-Event-ID", c.cursor) // as EventSource does
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		cancel()
		c.t.Fatalf("events through nginx: %v %v", err, resp)
	}
	c.stop = cancel
	c.t.Cleanup(cancel)
	go func(msgs chan<- []byte) {
		defer close(msgs)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				msgs <- []byte(data)
			}
		}
	}(c.msgs)
}

// readUntil applies messages until every person has at least the wanted
// version, reconnecting when dropped.
func (c *streamClient) readUntil(want map[int64]int64) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		done := true
		for id, v := range want {
			done = done && c.versions[id] >= v
		}
		if done {
			return
		}
		var data []byte
		var ok bool
		select {
		case data, ok = <-c.msgs:
		case <-time.After(5 * time.Second):
		}
		if !ok {
			c.stop()
			time.Sleep(100 * time.Millisecond)
			c.dial()
			c.redials++
			continue
		}
		var m struct {
			Type     string            `json:"type"`
			Cursor   string            `json:"cursor"`
			Features []json.RawMessage `json:"features"`
			Feature  json.RawMessage   `json:"feature"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			c.t.Fatalf("message %s: %v", data, err)
		}
		if m.Cursor != "" {
			c.cursor = m.Cursor
		}
		if m.Type == "snapshot" {
			c.versions = map[int64]int64{}
			c.snapshots++
		}
		for _, f := range append(m.Features, m.Feature) {
			var feat struct {
				ID         int64 `json:"id"`
				Properties struct {
					Version int64 `json:"version"`
				} `json:"properties"`
			}
			if len(f) == 0 || json.Unmarshal(f, &feat) != nil {
				continue
			}
			c.versions[feat.ID] = max(c.versions[feat.ID], feat.Properties.Version)
			if c.seen == nil {
				c.seen = map[int64][]int64{}
			}
			if got := c.seen[feat.ID]; !slices.Contains(got, feat.Properties.Version) {
				c.seen[feat.ID] = append(got, feat.Properties.Version)
			}
		}
	}
	c.t.Fatalf("client never saw %v, has %v", want, c.versions)
}

func TestTwoInstancesBehindNginxShareMovesAndSurviveLosingOne(t *testing.T) {
	dsn := pgtest.NewDB(t)
	env := map[string]string{"WHEREABOUTS_ADMIN_TOKEN": "admin-secret"}
	a, _, _ := startServe(t, env, "-database-url", dsn)
	b, stopB, _ := startServe(t, env, "-database-url", dsn, "-migrate=false")
	front := startNginx(t, a, b)

	id, token := createPerson(t, a, "admin-secret", "Ada")
	clients := make([]*streamClient, 12) // spread over both instances by nginx
	for i := range clients {
		// Kinds in pairs: nginx alternates instances, so each kind lands on both.
		clients[i] = &streamClient{t: t, url: front, sse: i/2%2 == 1, versions: map[int64]int64{}}
		clients[i].dial()
	}
	move(t, a, token, id, 52.37, 4.89) // written through A
	for _, c := range clients {
		c.readUntil(map[int64]int64{id: 1})
	}

	if err := stopB(); err != nil { // B goes away mid-stream
		t.Fatalf("stop B: %v", err)
	}
	for v := 2; v <= 6; v++ {
		if status := request(t, "PUT", fmt.Sprintf("%s/api/v1/people/%d/location", front, id), token,
			fmt.Sprintf(`{"lat":52.37,"lon":%g}`, 4.89+float64(v)/1000), nil); status != http.StatusOK {
			t.Fatalf("move %d through nginx after B stopped: %d", v, status)
		}
	}
	redials := map[bool]int{}
	for _, c := range clients {
		c.readUntil(map[int64]int64{id: 6})
		redials[c.sse] += c.redials
		if c.snapshots != 1 {
			t.Errorf("a client (sse %v) took %d snapshots: reconnecting with its cursor should resume, not start over", c.sse, c.snapshots)
		}
	}
	if redials[false] == 0 || redials[true] == 0 {
		t.Fatalf("reconnects by WebSocket %d, by SSE %d: nginx put no client of a kind on B, so its failover was not tested",
			redials[false], redials[true])
	}
}
