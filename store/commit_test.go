package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
	"whereabouts/store"
)

// TestGroupCommitAnswersEachWriterAndNotifiesEveryMove runs many concurrent
// writers through one committer and checks what each writer and a listener
// see: one answer per fix, one notification per committed move, and
// versions that rise by exactly one per person, in order.
func TestGroupCommitAnswersEachWriterAndNotifiesEveryMove(t *testing.T) {
	ctx := context.Background()
	s, dsn := open(t)
	listen, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer listen.Close(ctx)
	if _, err := listen.Exec(ctx, "LISTEN person_updated"); err != nil {
		t.Fatal(err)
	}
	const people, writers, fixes = 10, 40, 25
	ids := make([]int64, people)
	for i := range ids {
		ids[i] = person(t, s, "P")
	}
	c := s.NewCommitter(store.CommitConfig{Shards: 3, MaxRows: 16})
	defer c.Close()

	var mu sync.Mutex
	moved := 0
	var wg sync.WaitGroup
	base := time.Now().Add(-time.Hour)
	for w := range writers {
		wg.Go(func() {
			for f := range fixes {
				id := ids[(w+f)%people]
				at := base.Add(time.Duration(w*fixes+f) * time.Millisecond)
				res, err := c.Submit(ctx, store.Update{PersonID: id, Position: pos(float64(w), float64(f), at)})
				if err != nil || res.Err != nil {
					t.Errorf("writer %d fix %d: %v %v", w, f, err, res.Err)
					return
				}
				if res.Moved {
					mu.Lock()
					moved++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()

	last := map[int64]int64{}
	for range moved {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := listen.WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatalf("after %d notifications: %v", len(last), err)
		}
		ev, err := geo.DecodePersonFeature([]byte(n.Payload))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Version != last[ev.ID]+1 {
			t.Fatalf("person %d: version %d after %d", ev.ID, ev.Version, last[ev.ID])
		}
		last[ev.ID] = ev.Version
	}
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if n, err := listen.WaitForNotification(wctx); err == nil {
		t.Fatalf("more notifications than moves: %s", n.Payload)
	}
	for _, id := range ids {
		f := decode(t, mustPerson(t, s, id))
		if int64(f.Properties["version"].(float64)) != last[id] {
			t.Fatalf("person %d: stored version %v, last notified %d", id, f.Properties["version"], last[id])
		}
	}
}

func TestGroupCommitIsolatesABadFix(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	good := person(t, s, "Good")
	c := s.NewCommitter(store.CommitConfig{Shards: 1, MaxRows: 64, MaxDelay: 50 * time.Millisecond})
	defer c.Close()
	// A time that slipped past validation and is out of PostgreSQL's range
	// fails the whole statement; the committer must retry the others alone.
	bad := pos(1, 1, time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC))
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			up := store.Update{PersonID: good, Position: pos(1, float64(i), time.Now().Add(-time.Duration(i)*time.Second))}
			if i == 7 {
				up.Position = bad
			}
			res, err := c.Submit(ctx, up)
			errs[i] = errors.Join(err, res.Err)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 7) {
			t.Fatalf("fix %d: %v", i, err)
		}
	}
	if _, err := c.Submit(ctx, store.Update{PersonID: 987654, Position: pos(1, 1, time.Now())}); err != nil {
		t.Fatalf("unknown person: transport error %v", err)
	}
	c.Close()
	if _, err := c.Submit(ctx, store.Update{PersonID: good, Position: pos(1, 1, time.Now())}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
