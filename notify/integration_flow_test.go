package notify_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
	"whereabouts/pgcluster/pgtest"
)

func TestLiveStreamFromTheDatabaseToAWebSocket(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	ada, bob := s.createPerson(t, "Ada"), s.createPerson(t, "Bob")
	sent := map[[2]int64]string{} // what the store returned, by (id, version)
	var mu sync.Mutex
	move := func(id int64, lon, lat float64) int64 {
		f, err := s.move(ctx, id, lon, lat)
		if err != nil {
			t.Error(err)
			return 0
		}
		ev, err := geo.DecodePersonFeature(f)
		if err != nil {
			t.Error(err)
			return 0
		}
		mu.Lock()
		sent[[2]int64{id, ev.Version}] = string(f)
		mu.Unlock()
		return ev.Version
	}
	move(ada, 2.35, 48.85)
	move(bob, 13.40, 52.52)
	c := s.watch(t, "")
	waitFor(t, 5*time.Second, "the snapshot", func() bool { return c.sees(t, s) })

	// Paced: a client that keeps up gets every version, one update each.
	for i := range 10 {
		v := move(ada, float64(i), 1)
		waitFor(t, 5*time.Second, "the update", func() bool { return c.has(ada, v) })
	}
	c.mu.Lock()
	if got, want := c.updates[ada], []int64{2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; !slices.Equal(got, want) {
		t.Errorf("paced updates of Ada: versions %v, want %v", got, want)
	}
	c.mu.Unlock()

	// A burst: the client may skip versions the hub coalesced, never go back.
	var wg sync.WaitGroup
	for _, id := range []int64{ada, bob} {
		wg.Go(func() {
			for i := range 30 {
				move(id, float64(i), float64(i)/2)
			}
		})
	}
	wg.Wait()
	if err := s.store.DeletePerson(ctx, bob); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "every update", func() bool { return c.sees(t, s) })
	c.check(t) // includes: versions strictly increase per person

	c.mu.Lock()
	defer c.mu.Unlock()
	if vs := c.updates[ada]; vs[len(vs)-1] != 41 {
		t.Errorf("Ada's last update is version %d, want 41", vs[len(vs)-1])
	}
	for key, f := range c.features {
		if want, ok := sent[key]; ok && f != want {
			t.Errorf("person %d version %d: client got\n%s\nthe store returned\n%s", key[0], key[1], f, want)
		}
	}
	if _, ok := c.people[bob]; ok {
		t.Error("Bob is still on the map after his deletion")
	}
	if got := c.kinds[len(c.kinds)-1]; got != "remove" {
		t.Errorf("last message %s, want remove", got)
	}
}

func TestListenerReconnectsAndResyncsAfterAPostgreSQLRestart(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	var ids []int64
	for _, name := range []string{"Ada", "Bob", "Cy", "Dee"} {
		id := s.createPerson(t, name)
		if _, err := s.move(ctx, id, 0, 0); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	c := s.watch(t, "")
	waitFor(t, 5*time.Second, "the snapshot", func() bool { return c.sees(t, s) })

	// Writers keep moving everyone through the outage, retrying what fails.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failed sync.Map
	for _, id := range ids {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := s.move(wctx, id, float64(i%180), float64(i%90))
				cancel()
				if err != nil {
					failed.Store(id, true)
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	cluster := pgtest.Cluster()
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the listener to notice", func() bool { return !s.listener.Ready() })
	time.Sleep(300 * time.Millisecond)
	if err := cluster.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the listener to reconnect", func() bool {
		return s.listener.Ready() && s.listener.Stats().Reconnects >= 1
	})
	time.Sleep(300 * time.Millisecond) // writes after the restart, too
	close(stop)
	wg.Wait()
	if _, ok := failed.Load(ids[0]); !ok {
		t.Log("no write failed during the outage; the restart may have been too quick to matter")
	}
	waitFor(t, 10*time.Second, "the client to see the database's final state", func() bool { return c.sees(t, s) })
	c.check(t)
}

func TestListenerCountsAndSkipsPayloadsThatAreNotFeatures(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	c := s.watch(t, "")
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, payload := range []string{
		"garbage",
		`{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[500,0]},"properties":{"version":9}}`,
	} {
		if _, err := conn.Exec(ctx, "SELECT pg_notify('person_updated', $1)", payload); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "both failures to be counted", func() bool {
		return s.listener.Stats().DecodeFailures == 2
	})
	id := s.createPerson(t, "Ada")
	if _, err := s.move(ctx, id, 1, 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the next update", func() bool { return c.sees(t, s) })
	c.check(t)
	st := s.listener.Stats()
	if !s.listener.Ready() || st.Received < 3 || st.Reconnects != 0 || st.LastResync == 0 {
		t.Errorf("listener ready=%v stats %+v: want ready, 3+ received, no reconnect", s.listener.Ready(), st)
	}
}
