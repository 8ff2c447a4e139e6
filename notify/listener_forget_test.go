package notify_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/notify"
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
	forgets := &forgetLog{}
	s := newStack(t, func(l *notify.Listener) {
		l.Forget = forgets
		l.ConnConfig.RuntimeParams["application_name"] = "forget-listener"
	})
	if _, all := forgets.seen(); all != 1 {
		t.Fatalf("ForgetAll on connecting: %d calls, want 1", all)
	}
	keep, gone := s.createPerson(t, "Keep"), s.createPerson(t, "Gone")
	for _, id := range []int64{keep, gone} {
		if _, err := s.move(ctx, id, 4.89, 52.37); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.store.DeletePerson(ctx, gone); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the removal to be told", func() bool { p, _ := forgets.seen(); return len(p) > 0 })
	if p, _ := forgets.seen(); !slices.Equal(p, []int64{gone}) {
		t.Fatalf("Forget calls %v, want only the removed person %d", p, gone)
	}

	db, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'forget-listener'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "ForgetAll after reconnecting", func() bool { _, all := forgets.seen(); return all >= 2 })
}
