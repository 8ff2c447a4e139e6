package store_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
	"whereabouts/store"
)

func TestPruneHistoryDeletesOnlyOldRowsInManySmallTransactions(t *testing.T) {
	ctx := context.Background()
	s, dsn := open(t)
	db := newHistoryDB(t, dsn)
	cutoff := time.Now().Add(-30 * geo.Day).Truncate(time.Second)
	id := person(t, s, "Ada")
	// The live fix itself is older than the cutoff: its history row goes,
	// the marker stays.
	if _, err := s.UpdateLocation(ctx, store.Update{PersonID: id, Position: pos(4.5, 52.1, cutoff.Add(-time.Hour))}); err != nil {
		t.Fatal(err)
	}
	live := mustPerson(t, s, id)
	db.add(id, cutoff.Add(-time.Hour), 1050, time.Second)
	db.add(id, time.Now(), 30, time.Minute)
	db.exec(`INSERT INTO location_history (person_id, loc, recorded_at) VALUES ($1, 'POINT(1 1)', $2)`, id, cutoff)
	db.auditDeletes(0)

	n, err := s.PruneHistory(ctx, cutoff, 100)
	if err != nil || n != 1051 {
		t.Fatalf("PruneHistory = %d, %v; want 1051 rows", n, err)
	}
	if old, kept := db.count(cutoff); old != 0 || kept != 31 {
		t.Fatalf("after prune: %d rows older than the cutoff, %d from it on; want 0 and 31", old, kept)
	}
	if got := mustPerson(t, s, id); !bytes.Equal(got, live) {
		t.Fatalf("the live person changed:\nbefore %s\nafter  %s", live, got)
	}
	db.checkAudit(100, 1051)
	if n, err := s.PruneHistory(ctx, cutoff, 0); err != nil || n != 0 {
		t.Fatalf("second prune = %d, %v; want nothing left to do", n, err)
	}
}

func TestPruneHistoryNeverBlocksAWriter(t *testing.T) {
	ctx := context.Background()
	s, dsn := open(t)
	db := newHistoryDB(t, dsn)
	cutoff := time.Now().Add(-7 * geo.Day).Truncate(time.Second)
	id := person(t, s, "Ada")
	db.add(id, cutoff, 20000, time.Second)
	// The pruner stops inside its third batch, holding that transaction
	// open, until this connection releases advisory lock 42.
	db.auditDeletes(3)
	db.exec("SELECT pg_advisory_lock(42)")
	pruned := make(chan error, 1)
	go func() {
		n, err := s.PruneHistory(ctx, cutoff, 500)
		if err == nil && n != 20000 {
			err = fmt.Errorf("pruned %d rows, want 20000", n)
		}
		pruned <- err
	}()
	pollUntil(t, "the pruner to pause in its third batch", func() bool { return db.lockWaiters(true) == 1 })

	// Meanwhile a phone sends fixes through the real ingest path.
	for i := range 10 {
		wrote := make(chan error, 1)
		go func() {
			_, err := s.UpdateLocation(ctx, store.Update{PersonID: id, Position: pos(5, 52, time.Now().Add(time.Duration(i)*time.Second))})
			wrote <- err
		}()
		pollUntil(t, fmt.Sprintf("write %d to finish or to wait on a lock", i), func() bool {
			select {
			case err := <-wrote:
				if err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
				return true
			default:
			}
			if db.lockWaiters(false) > 0 {
				t.Fatalf("write %d waits for a lock the paused pruner holds", i)
			}
			return false
		})
	}
	if db.lockWaiters(true) != 1 || len(pruned) != 0 {
		t.Fatal("the pruner went on before it was let go")
	}
	db.exec("SELECT pg_advisory_unlock(42)")
	if err := <-pruned; err != nil {
		t.Fatal(err)
	}
	if old, kept := db.count(cutoff); old != 0 || kept != 10 {
		t.Fatalf("after prune: %d old rows, %d new; want 0 and the writer's 10", old, kept)
	}
	db.checkAudit(500, 20000)
}

func TestRetentionRunPrunesAtOnceAndStopsWithItsContext(t *testing.T) {
	s, dsn := open(t)
	db := newHistoryDB(t, dsn)
	id := person(t, s, "Ada")
	db.add(id, time.Now().Add(-31*geo.Day), 100, time.Second)
	db.add(id, time.Now(), 5, time.Minute)
	var logs lockedBuffer
	r := &store.Retention{Store: s, Keep: 30 * geo.Day, Batch: 10, Every: time.Hour, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	pollUntil(t, "the first prune", func() bool { return strings.Contains(logs.String(), "pruned location history") })
	if !strings.Contains(logs.String(), "rows=100") {
		t.Fatalf("log: %s", logs.String())
	}
	if old, kept := db.count(time.Now().Add(-30 * geo.Day)); old != 0 || kept != 5 {
		t.Fatalf("after the first prune: %d old rows, %d new; want 0 and 5", old, kept)
	}
	cancel()
	pollUntil(t, "Run to return", func() bool { return len(done) == 1 })
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
}

func TestRetentionRunLogsFailuresAndKeepsGoing(t *testing.T) {
	_, dsn := open(t)
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // every prune now fails
	var logs lockedBuffer
	r := &store.Retention{Store: s, Keep: time.Hour, Every: time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	pollUntil(t, "three failed prunes", func() bool { return strings.Count(logs.String(), "level=ERROR") >= 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestRetentionRunKeepsForeverWhenKeepIsZero(t *testing.T) {
	s, dsn := open(t)
	db := newHistoryDB(t, dsn)
	db.add(person(t, s, "Ada"), time.Now().Add(-365*geo.Day), 3, time.Second)
	r := &store.Retention{Store: s} // Run returns at once: no context to cancel
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if old, _ := db.count(time.Now()); old != 3 {
		t.Fatalf("%d rows left, want all 3", old)
	}
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"": 0, " ": 0, "0": 0, "0d": 0,
		"30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "12h": 12 * time.Hour,
		"720h": 720 * time.Hour, "90m": 90 * time.Minute, "1h": time.Hour,
	} {
		t.Run(fmt.Sprintf("%q keeps %v", in, want), func(t *testing.T) {
			if got, err := store.ParseRetention(in); err != nil || got != want {
				t.Fatalf("ParseRetention(%q) = %v, %v; want %v", in, got, err, want)
			}
		})
	}
	for in, says := range map[string]string{
		"-30d": "negative", "-1h": "negative",
		"6m": "under an hour", "59m": "under an hour", "30s": "under an hour",
		"30": "not a duration", "30 days": "not a duration", "1mo": "not a duration", "forever": "not a duration",
	} {
		t.Run(fmt.Sprintf("%q is refused as %s", in, says), func(t *testing.T) {
			_, err := store.ParseRetention(in)
			if err == nil || !strings.Contains(err.Error(), says) {
				t.Fatalf("ParseRetention(%q) error = %v, want one that says %q", in, err, says)
			}
		})
	}
}

// historyDB is a direct connection to a test's database, for arranging and
// inspecting location_history behind the store's back.
type historyDB struct {
	t    *testing.T
	conn *pgx.Conn
}

func newHistoryDB(t *testing.T, dsn string) *historyDB {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return &historyDB{t, conn}
}

func (db *historyDB) exec(sql string, args ...any) {
	db.t.Helper()
	if _, err := db.conn.Exec(context.Background(), sql, args...); err != nil {
		db.t.Fatalf("%s: %v", sql, err)
	}
}

// add inserts n fixes of one person, recorded step apart going back from
// before (exclusive).
func (db *historyDB) add(id int64, before time.Time, n int, step time.Duration) {
	db.t.Helper()
	db.exec(`INSERT INTO location_history (person_id, loc, recorded_at)
		SELECT $1, ST_SetSRID(ST_MakePoint(i * 1e-5, 0), 4326)::geography,
			$2::timestamptz - make_interval(secs => i * $3::float8)
		FROM generate_series(1, $4::int) i`, id, before, step.Seconds(), n)
}

// count counts history rows recorded before cutoff and from it on.
func (db *historyDB) count(cutoff time.Time) (old, kept int) {
	db.t.Helper()
	err := db.conn.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE recorded_at < $1),
		count(*) FILTER (WHERE recorded_at >= $1) FROM location_history`, cutoff).Scan(&old, &kept)
	if err != nil {
		db.t.Fatal(err)
	}
	return old, kept
}

// lockWaiters counts this database's sessions waiting for a lock: advisory
// locks (the paused pruner) or any other kind (a blocked writer).
func (db *historyDB) lockWaiters(advisory bool) int {
	db.t.Helper()
	var n int
	err := db.conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'
		AND (wait_event = 'advisory') = $1`, advisory).Scan(&n)
	if err != nil {
		db.t.Fatal(err)
	}
	return n
}

// auditDeletes records every DELETE statement on location_history in
// delete_audit: its transaction and how many rows it removed. With
// pauseAt > 0 the pauseAt-th statement then waits, inside its transaction,
// for advisory lock 42.
func (db *historyDB) auditDeletes(pauseAt int) {
	db.t.Helper()
	db.exec("CREATE TABLE delete_audit (xid xid8 NOT NULL, rows bigint NOT NULL)")
	db.exec(fmt.Sprintf(`CREATE FUNCTION delete_audit() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO delete_audit SELECT pg_current_xact_id(), count(*) FROM gone;
		IF (SELECT count(*) FROM delete_audit) = %d THEN
			PERFORM pg_advisory_xact_lock(42);
		END IF;
		RETURN NULL;
	END $$`, pauseAt))
	db.exec(`CREATE TRIGGER delete_audit AFTER DELETE ON location_history
		REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION delete_audit()`)
}

// checkAudit asserts that rows went in statements of at most batch rows,
// each in a transaction of its own, the last one finding nothing left.
func (db *historyDB) checkAudit(batch, rows int64) {
	db.t.Helper()
	var stmts, xacts, most, total, last int64
	err := db.conn.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT xid), max(rows), sum(rows),
		(SELECT rows FROM delete_audit ORDER BY xid DESC LIMIT 1) FROM delete_audit`).Scan(&stmts, &xacts, &most, &total, &last)
	if err != nil {
		db.t.Fatal(err)
	}
	want := (rows+batch-1)/batch + 1 // full batches, then one that finds none
	if stmts != want || xacts != stmts || most != batch || total != rows || last != 0 {
		db.t.Fatalf("%d delete statements in %d transactions, at most %d rows each, %d in all, %d in the last; "+
			"want %d statements in as many transactions, at most %d rows, %d in all, 0 in the last",
			stmts, xacts, most, total, last, want, batch, rows)
	}
}

// pollUntil polls cond until it holds; the deadline only keeps a broken
// test from hanging, it measures nothing.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// lockedBuffer collects log output written from Run's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
