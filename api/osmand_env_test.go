package api_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/api"
)

// osmEnv is a service with a connection to its database, to read
// location_history as stored.
type osmEnv struct {
	*service
	db *pgx.Conn
}

// osmNewEnv is newService with a database connection for reading
// location_history as stored.
func osmNewEnv(t *testing.T) *osmEnv {
	t.Helper()
	s := newService(t, api.Config{DevicesSeeOthers: true})
	return &osmEnv{service: s, db: s.connect()}
}

// send makes one request to url with a Content-Type (none when "") and
// header name/value pairs, and returns the answer.
func (e *osmEnv) send(method, url, contentType, body string, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// live returns the person's version, current fix time and last-seen time.
func (e *osmEnv) live(personID int64) (version int64, recordedAt, seenAt *time.Time) {
	e.t.Helper()
	err := e.db.QueryRow(context.Background(), "SELECT version, recorded_at, seen_at FROM person WHERE id = $1",
		personID).Scan(&version, &recordedAt, &seenAt)
	if err != nil {
		e.t.Fatal(err)
	}
	return version, recordedAt, seenAt
}

func osmF(v float64) *float64 { return &v }

// osmSame compares a stored reading with the expected one (nil: NULL).
func osmSame(got, want *float64) bool {
	if got == nil || want == nil {
		return got == want
	}
	d := *got - *want
	return d < 1e-9 && d > -1e-9
}
