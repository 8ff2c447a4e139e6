package notify_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
	"whereabouts/notify"
	"whereabouts/pgcluster/pgtest"
	"whereabouts/store"
)

// forgetLog records what a Listener tells its Forgetter.
type forgetLog struct {
	mu     sync.Mutex
	people []int64
	all    int
}

func (f *forgetLog) Forget(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.people = append(f.people, id)
}

func (f *forgetLog) ForgetAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.all++
}

func (f *forgetLog) seen() ([]int64, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.people), f.all
}

// The device token cache trusts the listener to tell it of every removal,
// and of every reconnection (removals may have passed while it was away).
func TestListenerTellsOfRemovalsAndReconnections(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDB(t)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "forget-listener"
	forgets := &forgetLog{}
	l := &notify.Listener{ConnConfig: cfg, Hub: notify.NewHub(notify.HubConfig{}), Source: st, Forget: forgets,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, 10*time.Second, "the listener to be ready", l.Ready)
	if _, all := forgets.seen(); all != 1 {
		t.Fatalf("ForgetAll on connecting: %d calls, want 1", all)
	}

	keep, gone := mustCreate(t, st, "Keep"), mustCreate(t, st, "Gone")
	for _, id := range []int64{keep, gone} {
		if _, err := st.UpdateLocation(ctx, store.Update{PersonID: id, Position: geo.Position{
			Point: geo.Point{Lon: 4.89, Lat: 52.37}, RecordedAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeletePerson(ctx, gone); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the removal to be told", func() bool { p, _ := forgets.seen(); return len(p) > 0 })
	if p, _ := forgets.seen(); !slices.Equal(p, []int64{gone}) {
		t.Fatalf("Forget calls %v, want only the removed person %d", p, gone)
	}

	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'forget-listener'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "ForgetAll after reconnecting", func() bool { _, all := forgets.seen(); return all >= 2 })
}

func mustCreate(t *testing.T, st *store.Store, name string) int64 {
	t.Helper()
	p, err := st.CreatePerson(context.Background(), name, "")
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}
