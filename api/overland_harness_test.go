package api_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
)

// ovlTransactions counts the transactions that wrote a person's history.
func ovlTransactions(t *testing.T, dsn string, person int64) int {
	t.Helper()
	var n int
	err := ovlConnect(t, dsn).QueryRow(context.Background(),
		`SELECT count(DISTINCT xmin::text) FROM location_history WHERE person_id = $1`, person).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func ovlConnect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// ovlPost sends a batch the way the app does: JSON with a Bearer token.
func (s *service) ovlPost(token, body string) response {
	s.t.Helper()
	return s.do("POST", "/ingest/overland", token, "application/json", []byte(body))
}

// ovlMarker is a person's live position: recorded_at, coordinates, version.
func (s *service) ovlMarker(id int64) (string, []any, float64) {
	s.t.Helper()
	f := s.call("GET", "/api/v1/people/"+strconv.FormatInt(id, 10), adminToken, "").json(s.t)
	props := f["properties"].(map[string]any)
	geom, _ := f["geometry"].(map[string]any)
	coords, _ := geom["coordinates"].([]any)
	at, _ := props["recorded_at"].(string)
	return at, coords, props["version"].(float64)
}

func ovlF(v float64) *float64 { return &v }
