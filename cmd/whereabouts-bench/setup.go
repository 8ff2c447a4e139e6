package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/pgcluster"
	schema "whereabouts/sql"
)

const benchDB = "whereabouts_bench"

// clusterSettings are production-like: durable commits, as a real
// deployment runs. They are printed with the results.
var clusterSettings = []string{
	"fsync=on", "synchronous_commit=on", "full_page_writes=on",
	"shared_buffers=256MB", "max_connections=300",
	// No checkpoint in the middle of a phase: each phase starts right after
	// an explicit CHECKPOINT instead, so HTTP and pgbench pay alike.
	"max_wal_size=8GB", "checkpoint_timeout=30min",
}

// bench holds everything one run starts, so cleanup can stop it all.
type bench struct {
	opts     options
	getenv   func(string) string
	progress io.Writer

	dir     string
	cluster *pgcluster.Cluster
	dsn     string
	db      *pgx.Conn // control connection: seeding, counters, CHECKPOINT
	bin     string    // the whereabouts binary
	srv     *server
	token   string
	machine machine
	pgbench string // path of the pgbench binary
	fdLimit uint64 // RLIMIT_NOFILE after raising it

	counter *counter
	http    tally // notifications and moves of the HTTP phases
	pg      tally // and of the pgbench phases
	notes   []string
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.progress, "whereabouts-bench: "+format+"\n", args...)
}

// setup builds the server, starts the cluster, migrates and seeds.
func (b *bench) setup(ctx context.Context) error {
	var err error
	if b.pgbench, err = findPgbench(); err != nil {
		return err
	}
	if b.dir, err = os.MkdirTemp("", "whbench-"); err != nil {
		return err
	}
	// The postgres user (we may be root) must reach the data directory inside.
	if err := os.Chmod(b.dir, 0o755); err != nil {
		return err
	}
	b.bin = b.opts.ServerBin
	if b.bin == "" {
		b.logf("building ./cmd/whereabouts")
		if b.bin, err = buildServer(ctx, b.dir); err != nil {
			return err
		}
	}
	b.logf("starting a private PostgreSQL cluster in %s", b.dir)
	b.cluster, err = pgcluster.New(pgcluster.Config{Dir: filepath.Join(b.dir, "pgdata"), Options: clusterSettings})
	if err != nil {
		return err
	}
	if err := b.cluster.Start(ctx); err != nil {
		b.cluster = nil // nothing to stop
		return err
	}
	if err := b.cluster.EnsureDatabase(ctx, benchDB); err != nil {
		return err
	}
	b.dsn = b.cluster.DSN(benchDB)
	if err := schema.Up(ctx, b.dsn); err != nil {
		return err
	}
	if b.db, err = pgx.Connect(ctx, b.dsn); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	b.logf("seeding %d people", b.opts.People)
	if err := seed(ctx, b.db, b.opts.People); err != nil {
		return err
	}
	b.machine, err = describeMachine(ctx, b.db, b.pgbench, b.bin)
	return err
}

// startServer starts the server under test with a fresh admin token.
func (b *bench) startServer(ctx context.Context) error {
	b.token = randomToken()
	var err error
	b.srv, err = startServer(ctx, b.bin, b.dsn, b.token, b.dir, b.opts.ServerProcs, b.getenv)
	return err
}

func (b *bench) stopServer() error {
	if b.srv == nil {
		return nil
	}
	err := b.srv.stop()
	b.srv = nil
	return err
}

// deviceToken is person id's device token. The API keeps tokens as their
// SHA-256 (store.HashToken), which seed computes in SQL from the same
// prefix.
func deviceToken(id int) string { return deviceTokenPrefix + strconv.Itoa(id) }

const deviceTokenPrefix = "bench-device-"

// seed inserts people 1..n spread uniformly over the city, with a fix an
// hour old so every benchmark move is newer, and a device token each.
// Triggers are skipped (session_replication_role) so seeding sends no
// notifications, and the token goes to person_key by hand; change_xid takes
// its column default.
func seed(ctx context.Context, db *pgx.Conn, n int) error {
	c := defaultCity
	stmts := []string{
		"SET session_replication_role = replica",
		fmt.Sprintf(`INSERT INTO person (name, token_hash, loc, recorded_at, version)
SELECT 'p' || i, sha256(convert_to('`+deviceTokenPrefix+`' || i, 'UTF8')),
       ST_SetSRID(ST_MakePoint(%.6f + (2 * random() - 1) * %.9f, %.6f + (2 * random() - 1) * %.9f), 4326)::geography,
       now() - interval '1 hour', 0
FROM generate_series(1, %d) AS i`, c.Lon, c.DLon, c.Lat, c.DLat, n),
		"INSERT INTO person_key (person_id, token_hash) SELECT id, token_hash FROM person",
		"SET session_replication_role = DEFAULT",
		"VACUUM ANALYZE person",
	}
	for _, s := range stmts {
		if _, err := db.Exec(ctx, s); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

// sumVersions is the number of moves ever committed: every accepted move
// raises its person's version by one.
func sumVersions(ctx context.Context, db *pgx.Conn) (int64, error) {
	var v int64
	err := db.QueryRow(ctx, "SELECT coalesce(sum(version), 0)::bigint FROM person").Scan(&v)
	return v, err
}

// checkpoint flushes dirty pages so each measured phase starts alike.
func (b *bench) checkpoint(ctx context.Context) error {
	if _, err := b.db.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// cleanup stops the server and the cluster and removes the temporary
// directory, whatever state setup or the runs left behind.
func (b *bench) cleanup() {
	b.stopCounter()
	if err := b.stopServer(); err != nil {
		b.logf("stop server: %v", err)
	}
	if b.db != nil {
		b.db.Close(context.Background())
	}
	if b.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := b.cluster.Stop(ctx); err != nil {
			b.logf("stop cluster: %v", err)
		}
		cancel()
	}
	if b.dir == "" {
		return
	}
	if b.opts.Keep {
		b.logf("kept %s", b.dir)
		return
	}
	os.RemoveAll(b.dir)
}

func randomToken() string {
	buf := make([]byte, 32)
	rand.Read(buf)
	return hex.EncodeToString(buf)
}
