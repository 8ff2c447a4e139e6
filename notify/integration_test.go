package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
	"whereabouts/notify"
	"whereabouts/pgcluster/pgtest"
	"whereabouts/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// stack is what serve wires together: store, listener, hub, WebSocket.
type stack struct {
	dsn      string
	store    *store.Store
	hub      *notify.Hub
	listener *notify.Listener
	srv      *httptest.Server
}

// newStack starts the stack; configure, if any, adjusts the listener
// before it runs.
func newStack(t *testing.T, configure ...func(*notify.Listener)) *stack {
	t.Helper()
	ctx := context.Background()
	s := &stack{dsn: pgtest.NewDB(t), hub: notify.NewHub(notify.HubConfig{})}
	st, err := store.Open(ctx, s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	s.store = st
	cfg, err := pgx.ParseConfig(s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s.listener = &notify.Listener{ConnConfig: cfg, Hub: s.hub, Source: st, Log: log,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}
	for _, c := range configure {
		c(s.listener)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.listener.Run(runCtx) }()
	ws := &notify.WebSocket{Hub: s.hub, Source: st, Log: log}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := notify.ParseFilter(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ws.Serve(w, r, notify.Subscription{Filter: f})
	}))
	t.Cleanup(func() {
		s.hub.Close()
		s.srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("listener Run: %v", err)
		}
	})
	waitFor(t, 10*time.Second, "the listener to be ready", s.listener.Ready)
	return s
}

// testWriter sends logs to the test's output, shown when it fails.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *stack) createPerson(t *testing.T, name string) int64 {
	t.Helper()
	p, err := s.store.CreatePerson(context.Background(), name, "")
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// move writes a fix and returns the person's Feature after it.
func (s *stack) move(ctx context.Context, id int64, lon, lat float64) ([]byte, error) {
	return s.store.UpdateLocation(ctx, store.Update{PersonID: id, Position: geo.Position{
		Point: geo.Point{Lon: lon, Lat: lat}, RecordedAt: time.Now()}})
}

// client is a live-map client: it applies every message to its own picture
// of the world, as the map page does.
type client struct {
	mu       sync.Mutex
	people   map[int64]geo.PersonEvent
	raw      map[int64][]byte    // each person's Feature as received
	updates  map[int64][]int64   // versions of the updates, in arrival order
	features map[[2]int64]string // (id, version) -> Feature bytes received
	kinds    []string            // message types, in order
	problems []string
}

func (s *stack) watch(t *testing.T, query string) *client {
	t.Helper()
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/?" + query
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &client{people: map[int64]geo.PersonEvent{}, raw: map[int64][]byte{},
		updates: map[int64][]int64{}, features: map[[2]int64]string{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			c.apply(data)
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return c
}

func (c *client) apply(data []byte) {
	var m struct {
		Type     string
		Feature  json.RawMessage
		Features []json.RawMessage
		ID       int64
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := json.Unmarshal(data, &m); err != nil {
		c.problems = append(c.problems, fmt.Sprintf("bad message %s", data))
		return
	}
	c.kinds = append(c.kinds, m.Type)
	switch m.Type {
	case "snapshot":
		clear(c.people)
		for _, f := range m.Features {
			c.put(f)
		}
	case "update":
		ev := c.put(m.Feature)
		if vs := c.updates[ev.ID]; len(vs) > 0 && vs[len(vs)-1] >= ev.Version {
			c.problems = append(c.problems, fmt.Sprintf("person %d: version %d after %d", ev.ID, ev.Version, vs[len(vs)-1]))
		}
		c.updates[ev.ID] = append(c.updates[ev.ID], ev.Version)
	case "remove":
		delete(c.people, m.ID)
	}
}

func (c *client) put(f []byte) geo.PersonEvent {
	ev, err := geo.DecodePersonFeature(f)
	if err != nil {
		c.problems = append(c.problems, err.Error())
		return ev
	}
	c.people[ev.ID] = ev
	c.raw[ev.ID] = f
	c.features[[2]int64{ev.ID, ev.Version}] = string(f)
	return ev
}

// sees reports whether the client's picture is exactly the database's.
func (c *client) sees(t *testing.T, s *stack) bool {
	t.Helper()
	want, _, err := s.store.Snapshot(context.Background(), geo.Filter{})
	if err != nil {
		return false // the database may be restarting
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(want) != len(c.people) {
		return false
	}
	for _, f := range want {
		ev, err := geo.DecodePersonFeature(f)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := c.people[ev.ID]; !ok || got != ev {
			return false
		}
	}
	return true
}

// has reports whether the client got version v of person id.
func (c *client) has(id, v int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.features[[2]int64{id, v}]
	return ok
}

func (c *client) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.problems {
		t.Error(p)
	}
	if len(c.kinds) == 0 || c.kinds[0] != "snapshot" {
		t.Errorf("first messages %v, want a snapshot first", c.kinds[:min(3, len(c.kinds))])
	}
}
