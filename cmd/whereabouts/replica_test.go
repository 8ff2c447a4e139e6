package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/pgcluster/pgtest"
)

// TestReadsGoToTheReplicaWritesAndStreamToThePrimary pauses replay on a
// real streaming replica (pg_basebackup of the test cluster): a move then
// reaches the stream (primary) but not GET (replica) until replay resumes.
func TestReadsGoToTheReplicaWritesAndStreamToThePrimary(t *testing.T) {
	ctx := context.Background()
	primaryDSN := pgtest.NewDB(t)
	base, err := os.MkdirTemp("", "whreplica-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	os.Chmod(base, 0o755)
	replica, err := pgtest.Cluster().Replica(ctx, filepath.Join(base, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if err := replica.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer replica.Stop(context.Background())
	u, _ := url.Parse(primaryDSN)
	replicaDSN := replica.DSN(strings.TrimPrefix(u.Path, "/"))

	base0, _, _ := startServe(t, map[string]string{"WHEREABOUTS_ADMIN_TOKEN": "admin-secret"},
		"-database-url", primaryDSN, "-read-database-url", replicaDSN)
	id, token := createPerson(t, base0, "admin-secret", "Ada")
	move(t, base0, token, id, 52.37, 4.89)
	waitVersion(t, base0, id, 1) // the replica caught up

	conn, err := pgx.Connect(ctx, replicaDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	stream := &streamClient{t: t, url: base0, versions: map[int64]int64{}}
	stream.dial()
	stream.readUntil(map[int64]int64{id: 1})
	if _, err := conn.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	move(t, base0, token, id, 48.85, 2.35)   // the write goes to the primary
	stream.readUntil(map[int64]int64{id: 2}) // and so does the stream
	time.Sleep(300 * time.Millisecond)
	if v := version(t, base0, id); v != 1 {
		t.Fatalf("GET answered version %d while replay was paused: not read from the replica", v)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	waitVersion(t, base0, id, 2)
}

func version(t *testing.T, base string, id int64) int64 {
	t.Helper()
	var f struct {
		Properties struct {
			Version int64 `json:"version"`
		} `json:"properties"`
	}
	var raw json.RawMessage
	if status := request(t, "GET", fmt.Sprintf("%s/api/v1/people/%d", base, id), "admin-secret", "", &raw); status != 200 {
		return -1
	}
	json.Unmarshal(raw, &f)
	return f.Properties.Version
}

func waitVersion(t *testing.T, base string, id, want int64) {
	t.Helper()
	for range 400 {
		if version(t, base, id) >= want {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("person %d never reached version %d through the replica", id, want)
}
