package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/api"
)

// otService is newService plus the database URL, for reading
// location_history directly.
func otService(t *testing.T, cfg api.Config) (*service, string) {
	t.Helper()
	s := newService(t, cfg)
	return s, s.dsn
}

// otPerson creates a person with a device_id and returns its id and token.
func otPerson(s *service, name, deviceID string) (int64, string) {
	s.t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "device_id": deviceID})
	r := s.call("POST", "/api/v1/people", adminToken, string(body))
	if r.status != http.StatusCreated {
		s.t.Fatalf("create %s: %d %s", name, r.status, r.body)
	}
	v := r.json(s.t)
	return int64(v["id"].(float64)), v["token"].(string)
}

// otRequest is one POST to the OwnTracks endpoint as an app or curl sends it.
type otRequest struct {
	query, user, pass, ctype string
	header                   map[string]string
	body                     string
}

func (s *service) otPost(q otRequest) response {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.url+"/ingest/owntracks"+q.query, bytes.NewReader([]byte(q.body)))
	if err != nil {
		s.t.Fatal(err)
	}
	if q.user != "" || q.pass != "" {
		req.SetBasicAuth(q.user, q.pass)
	}
	if q.ctype != "" {
		req.Header.Set("Content-Type", q.ctype)
	}
	for k, v := range q.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// otFix is one row of location_history.
type otFix struct {
	at                       time.Time
	lon, lat                 float64
	acc, mps, hdg, alt, batt *float64
}

func otHistory(t *testing.T, dsn string, id int64) []otFix {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT recorded_at, ST_X(loc::geometry), ST_Y(loc::geometry),
		accuracy_m, speed_mps, heading_deg, altitude_m, battery
		FROM location_history WHERE person_id = $1 ORDER BY received_at, recorded_at`, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []otFix
	var f otFix
	_, err = pgx.ForEachRow(rows, []any{&f.at, &f.lon, &f.lat, &f.acc, &f.mps, &f.hdg, &f.alt, &f.batt}, func() error {
		out = append(out, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
