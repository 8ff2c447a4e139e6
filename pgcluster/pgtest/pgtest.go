// Package pgtest gives each test package one private PostGIS cluster and each
// test its own freshly migrated database, so tests run against the real thing
// and never see each other's rows.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/pgcluster"
	schema "whereabouts/sql"
)

const templateDB = "whereabouts_template"

// The cluster is per test binary: TestMain owns it, tests share it.
var (
	cluster *pgcluster.Cluster
	mu      sync.Mutex // CREATE DATABASE from one template, one at a time
	seq     atomic.Int64
)

// Main starts the cluster, migrates a template database, runs the tests and
// stops the cluster. Use it as: func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }.
func Main(m *testing.M) int {
	base, err := os.MkdirTemp("", "whtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer os.RemoveAll(base)
	// The postgres user must be able to reach the data directory inside.
	if err := os.Chmod(base, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgcluster.New(pgcluster.Config{
		Dir:     filepath.Join(base, "data"),
		Options: []string{"fsync=off", "full_page_writes=off", "max_connections=300"},
	})
	if err == nil {
		err = c.Start(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	cluster = c
	defer c.Stop(context.Background())
	if err := c.EnsureDatabase(ctx, templateDB); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	if err := schema.Up(ctx, c.DSN(templateDB)); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: migrate template:", err)
		return 1
	}
	return m.Run()
}

// Cluster is the package's running cluster, for tests that stop and start it.
func Cluster() *pgcluster.Cluster { return cluster }

// NewDB creates a migrated database for one test, dropped when it ends, and
// returns its connection URL.
func NewDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), seq.Add(1))
	admin(t, "CREATE DATABASE "+name+" TEMPLATE "+templateDB)
	t.Cleanup(func() { admin(t, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	return cluster.DSN(name)
}

// NewEmptyDB creates a database with no schema, for migration tests.
func NewEmptyDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("e%d_%d", os.Getpid(), seq.Add(1))
	admin(t, "CREATE DATABASE "+name)
	t.Cleanup(func() { admin(t, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	return cluster.DSN(name)
}

func admin(t testing.TB, stmt string) {
	t.Helper()
	if cluster == nil {
		t.Fatal("pgtest: no cluster; call pgtest.Main from TestMain")
	}
	mu.Lock()
	defer mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, cluster.DSN("postgres"))
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("pgtest: %s: %v", stmt, err)
	}
}
