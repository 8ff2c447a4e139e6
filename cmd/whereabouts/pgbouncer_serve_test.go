package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/pgcluster/pgtest"
)

// TestServeThroughPgBouncerInTransactionMode runs the server with its queries
// through a real PgBouncer in transaction pooling mode and its LISTEN
// connection straight to PostgreSQL, as the README tells users to: it
// migrates an empty database, takes concurrent single writes (the group
// committer) and a batch, answers reads, and streams every move.
func TestServeThroughPgBouncerInTransactionMode(t *testing.T) {
	ctx := context.Background()
	direct := pgtest.NewEmptyDB(t) // the server must migrate it itself
	u, _ := url.Parse(direct)
	db := strings.TrimPrefix(u.Path, "/")
	// Fewer server connections than the app's pool has clients, handed out
	// round-robin, so consecutive statements of one client land on different
	// PostgreSQL sessions: anything that leans on session state breaks.
	bouncer := startPgBouncer(t, pgtest.Cluster().Port(),
		"pool_mode = transaction", "default_pool_size = 2", "min_pool_size = 2", "server_round_robin = 1")
	env := map[string]string{
		"WHEREABOUTS_ADMIN_TOKEN":         "admin-secret",
		"WHEREABOUTS_DATABASE_URL":        bouncer.DSN(db, "default_query_exec_mode=exec&application_name=wh-pooled"),
		"WHEREABOUTS_LISTEN_DATABASE_URL": direct + "&application_name=wh-listen",
	}
	// Migrations hold a session-level advisory lock, so they must bypass the
	// pooler: they have to finish while PgBouncer is paused, which is lifted
	// only then (or after a deadline, failing the test).
	if _, err := bouncer.command("PAUSE"); err != nil {
		t.Fatal(err)
	}
	migrated := make(chan error, 1)
	want := latestMigration(t)
	go func() {
		err := waitMigrated(direct, want, 15*time.Second)
		if _, rerr := bouncer.command("RESUME"); err == nil {
			err = rerr
		}
		migrated <- err
	}()
	base, _, out := startServe(t, env)
	if err := <-migrated; err != nil {
		t.Fatalf("migrations did not finish while pgbouncer was paused: %v\n%s", err, out)
	}

	conn, err := pgx.Connect(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	stream := &streamClient{t: t, url: base, versions: map[int64]int64{}}
	stream.dial()
	const people, puts = 6, 5
	ids := make([]int64, people)
	tokens := make([]string, people)
	for i := range ids {
		ids[i], tokens[i] = createPerson(t, base, "admin-secret", fmt.Sprintf("P%d", i))
	}
	// Each person's PUTs in order, the people at once: the committer gathers
	// concurrent fixes into shared transactions.
	var wg sync.WaitGroup
	errs := make(chan error, people*puts)
	for i := range ids {
		wg.Go(func() {
			for k := 1; k <= puts; k++ {
				body := fmt.Sprintf(`{"lat":52.37,"lon":%g}`, 4.89+float64(i)/100+float64(k)/10000)
				if err := put(base, tokens[i], ids[i], body); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Then a batch with two later fixes of each: two more versions each.
	var batch []string
	at := time.Now().Add(time.Second).UnixMilli()
	for i, id := range ids {
		for k := range 2 {
			batch = append(batch, fmt.Sprintf(`{"person_id":%d,"lat":52.38,"lon":%g,"recorded_at":%d}`,
				id, 4.89+float64(i)/100, at+int64(k)))
		}
	}
	var accepted struct {
		Accepted int               `json:"accepted"`
		Rejected []json.RawMessage `json:"rejected"`
	}
	if status := request(t, "POST", base+"/api/v1/locations", "admin-secret", "["+strings.Join(batch, ",")+"]", &accepted); status != http.StatusOK || accepted.Accepted != len(batch) {
		t.Fatalf("batch: %d, accepted %d of %d, rejected %s", status, accepted.Accepted, len(batch), accepted.Rejected)
	}
	const final = puts + 2

	finals := map[int64]int64{}
	for _, id := range ids {
		finals[id] = final
	}
	stream.readUntil(finals)
	for _, id := range ids {
		if got := stream.seen[id]; len(got) != final {
			t.Errorf("stream: person %d versions %v, want every one of 1..%d", id, got, final)
		}
	}

	for i, id := range ids {
		var f struct {
			Geometry struct {
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				Version int64 `json:"version"`
			} `json:"properties"`
		}
		if status := request(t, "GET", fmt.Sprintf("%s/api/v1/people/%d", base, id), "admin-secret", "", &f); status != 200 ||
			f.Properties.Version != final || len(f.Geometry.Coordinates) != 2 || f.Geometry.Coordinates[1] != 52.38 {
			t.Errorf("GET person %d: %d %+v", id, status, f)
		}
		var hist struct {
			Features []json.RawMessage `json:"features"`
		}
		if status := request(t, "GET", fmt.Sprintf("%s/api/v1/people/%d/history", base, id), tokens[i], "", &hist); status != 200 || len(hist.Features) != final {
			t.Errorf("history of %d: %d, %d fixes, want %d", id, status, len(hist.Features), final)
		}
	}
	var near struct {
		Features []json.RawMessage `json:"features"`
	}
	if status := request(t, "GET", base+"/api/v1/people/nearby?lat=52.38&lon=4.89&limit=100&radius_m=10000", "admin-secret", "", &near); status != 200 || len(near.Features) != people {
		t.Errorf("nearby: %d, %d people, want %d", status, len(near.Features), people)
	}
	var inBox, inArea struct {
		Features []json.RawMessage `json:"features"`
	}
	if status := request(t, "GET", base+"/api/v1/people?bbox=4.8,52.3,5.0,52.4", "admin-secret", "", &inBox); status != 200 || len(inBox.Features) != people {
		t.Errorf("bbox: %d, %d people, want %d", status, len(inBox.Features), people)
	}
	area := `{"type":"Polygon","coordinates":[[[4.8,52.3],[5.0,52.3],[5.0,52.4],[4.8,52.4],[4.8,52.3]]]}`
	if status := request(t, "POST", base+"/api/v1/people/within", "admin-secret", area, &inArea); status != 200 || len(inArea.Features) != people {
		t.Errorf("within: %d, %d people, want %d", status, len(inArea.Features), people)
	}
	if m := regexp.MustCompile(`(?m)^whereabouts_group_commit_rows_count (\d+)$`).FindStringSubmatch(metrics(t, base)); m == nil || m[1] == "0" {
		t.Errorf("the group committer never committed: %v", m)
	}

	// It really went through PgBouncer, in transaction mode...
	for _, p := range bouncer.show(t, "POOLS") {
		if p["database"] == db && p["pool_mode"] != "transaction" {
			t.Errorf("pgbouncer pool for %s is in %q mode", db, p["pool_mode"])
		}
	}
	var xacts int
	for _, s := range bouncer.show(t, "STATS") {
		if s["database"] == db {
			xacts, _ = strconv.Atoi(s["total_xact_count"])
		}
	}
	if writes := people * (puts + 1); xacts < writes {
		t.Errorf("pgbouncer counted %d transactions on %s, fewer than the %d creates and writes: the server bypassed it", xacts, db, writes)
	}
	// ...and LISTEN did not: its session is direct, and it is listening.
	for _, c := range bouncer.show(t, "CLIENTS") {
		if c["database"] == db && c["application_name"] == "wh-listen" {
			t.Errorf("the listener connected through pgbouncer: %v", c)
		}
	}
	var listening int
	// Its last statement is a LISTEN, or the horizon marker it sends while
	// people move.
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = $1 AND application_name = 'wh-listen'
		AND (query LIKE 'LISTEN%' OR query LIKE '%pg_notify(''person_horizon''%')`, db).Scan(&listening); err != nil || listening != 1 {
		t.Errorf("direct LISTEN sessions: %d, %v", listening, err)
	}
	// A session-level lock taken through the pooler would be left behind on
	// whichever server connection took it (golang-migrate's advisory lock).
	var locks int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&locks); err != nil || locks != 0 {
		t.Errorf("advisory locks left held: %d, %v", locks, err)
	}
}

// put is one PUT of a position, safe to call from any goroutine.
func put(base, token string, id int64, body string) error {
	req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/api/v1/people/%d/location", base, id), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("put %d: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e json.RawMessage
		json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("put %d: %d %s", id, resp.StatusCode, e)
	}
	return nil
}

func metrics(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitMigrated polls the database directly until its schema is at version
// want and clean.
func waitMigrated(dsn string, want int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var version int
	var dirty bool
	var err error
	for {
		var conn *pgx.Conn
		if conn, err = pgx.Connect(ctx, dsn); err == nil {
			err = conn.QueryRow(ctx, "SELECT version, dirty FROM schema_migrations").Scan(&version, &dirty)
			conn.Close(context.Background())
			if err == nil && version == want && !dirty {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("schema at version %d (dirty %v, %v), want %d", version, dirty, err, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func latestMigration(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "sql", "migrations", "*.up.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	slices.Sort(files)
	n, err := strconv.Atoi(strings.SplitN(filepath.Base(files[len(files)-1]), "_", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}
