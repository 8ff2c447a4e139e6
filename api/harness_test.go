package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"whereabouts/api"
	"whereabouts/notify"
	"whereabouts/pgcluster/pgtest"
	"whereabouts/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const adminToken = "test-admin-token"

// service is a real API over a real database, listener and hub. osmURL
// serves the OsmAnd adapter at every path, as WHEREABOUTS_OSMAND_ADDR does;
// dsn lets tests read tables directly.
type service struct {
	t      *testing.T
	url    string
	osmURL string
	dsn    string
	store  *store.Store
}

// pollTimeout keeps the tests' empty long-polls short.
const pollTimeout = 2 * time.Second

func newService(t *testing.T, cfg api.Config) *service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dsn := pgtest.NewDB(t)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	connCfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := notify.NewHub(notify.HubConfig{Log: log})
	listener := &notify.Listener{ConnConfig: connCfg, Hub: hub, Source: st, Log: log}
	devices := store.NewDeviceCache(st.DeviceByDigest, store.DeviceCacheConfig{Live: listener.Ready})
	listener.Forget = devices
	done := make(chan struct{})
	go func() { listener.Run(ctx); close(done) }()
	// Tests that count notifications must not write before the listener
	// listens: what it missed would only come back by its catch-up read.
	for deadline := time.Now().Add(10 * time.Second); !listener.Ready(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the listener never became ready")
		}
	}
	streams := api.Streams{
		WebSocket: &notify.WebSocket{Hub: hub, Source: st, Log: log},
		Events:    &notify.SSE{Hub: hub, Source: st, Log: log},
		Poll:      &notify.Poll{Hub: hub, Source: st, Log: log, Timeout: pollTimeout},
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = adminToken
	}
	metrics := api.NewMetrics(prometheus.NewRegistry(), listener, hub, streams, devices)
	commit := st.NewCommitter(store.CommitConfig{OnFlush: metrics.CommitRows})
	a := api.New(cfg, api.Deps{Store: st, Commit: commit, Devices: devices, Streams: streams, Ready: listener.Ready, Log: log, Metrics: metrics})
	srv, osm := httptest.NewServer(a.Handler()), httptest.NewServer(a.OsmAndHandler())
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
		osm.Close()
		commit.Close()
		cancel()
		<-done
		st.Close()
	})
	return &service{t: t, url: srv.URL, osmURL: osm.URL, dsn: dsn, store: st}
}

// connect opens a connection to the test's database, closed at cleanup.
func (s *service) connect() *pgx.Conn {
	s.t.Helper()
	db, err := pgx.Connect(context.Background(), s.dsn)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("status %d, body %q is not a JSON object: %v", r.status, r.body, err)
	}
	return v
}

// errorCode returns error.code, failing unless the body is the API's error
// shape with a message.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok || e["message"] == "" || e["message"] == nil {
		t.Fatalf("status %d: body %s is not {\"error\":{\"code\",\"message\"}}", r.status, r.body)
	}
	return e["code"].(string)
}

func (s *service) do(method, path, token, contentType string, body []byte) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (s *service) call(method, path, token, body string) response {
	s.t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return s.do(method, path, token, ct, []byte(body))
}

// newPerson creates a person through the API and returns its id and token.
func (s *service) newPerson(name string) (int64, string) {
	s.t.Helper()
	return s.newDevice(name, "")
}

// newDevice creates a person with a device_id ("" for none) and returns its
// id and device token.
func (s *service) newDevice(name, deviceID string) (int64, string) {
	s.t.Helper()
	req := map[string]string{"name": name}
	if deviceID != "" {
		req["device_id"] = deviceID
	}
	body, _ := json.Marshal(req)
	r := s.call("POST", "/api/v1/people", adminToken, string(body))
	if r.status != http.StatusCreated {
		s.t.Fatalf("create %s: %d %s", name, r.status, r.body)
	}
	v := r.json(s.t)
	return int64(v["id"].(float64)), v["token"].(string)
}

func nowJSON(offset time.Duration) string {
	return `"` + time.Now().Add(offset).UTC().Format(time.RFC3339Nano) + `"`
}

func path(id int64, suffix string) string {
	return "/api/v1/people/" + strconv.FormatInt(id, 10) + suffix
}

// storedFix is one location_history row as stored.
type storedFix struct {
	At                      time.Time
	Lon, Lat                float64
	Acc, Spd, Hdg, Alt, Bat *float64
	Flag                    *string
}

// storedHistory reads a person's stored fixes, oldest first, times in UTC.
func (s *service) storedHistory(personID int64) []storedFix {
	s.t.Helper()
	rows, err := s.connect().Query(context.Background(), `SELECT recorded_at, ST_X(loc::geometry), ST_Y(loc::geometry),
		accuracy_m, speed_mps, heading_deg, altitude_m, battery, flag
		FROM location_history WHERE person_id = $1 ORDER BY recorded_at`, personID)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []storedFix
	var r storedFix
	_, err = pgx.ForEachRow(rows, []any{&r.At, &r.Lon, &r.Lat, &r.Acc, &r.Spd, &r.Hdg, &r.Alt, &r.Bat, &r.Flag}, func() error {
		r.At = r.At.UTC()
		out = append(out, r)
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}
