package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/store"
)

// tokenWorld is a person with a device token, a clock the test moves, and
// a direct connection to change the token behind the cache's back: what
// the cache answers after such a change tells whether it asked the database.
type tokenWorld struct {
	s     *store.Store
	db    *pgx.Conn
	id    int64
	token string
	now   time.Time
}

func newTokenWorld(t *testing.T) *tokenWorld {
	t.Helper()
	ctx := context.Background()
	s, dsn := open(t)
	p, err := s.CreatePerson(ctx, "Phone", "phone-1")
	if err != nil {
		t.Fatal(err)
	}
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(ctx) })
	return &tokenWorld{s: s, db: db, id: p.ID, token: p.Token, now: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)}
}

func (w *tokenWorld) cache(cfg store.DeviceCacheConfig) *store.DeviceCache {
	cfg.Now = func() time.Time { return w.now }
	return store.NewDeviceCache(w.s.DeviceByDigest, cfg)
}

// revoke changes the person's token in SQL, without telling any cache.
func (w *tokenWorld) revoke(t *testing.T) {
	t.Helper()
	if _, err := w.db.Exec(context.Background(), `UPDATE person_key SET token_hash = $1 WHERE person_id = $2`,
		store.HashToken("another "+w.token), w.id); err != nil {
		t.Fatal(err)
	}
}

// answers reports whether c still takes the token, and for whom.
func (w *tokenWorld) answers(t *testing.T, c *store.DeviceCache) bool {
	t.Helper()
	d, err := c.DeviceByDigest(context.Background(), sha256.Sum256([]byte(w.token)))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false
	case err != nil:
		t.Fatal(err)
	case d.PersonID != w.id || d.DeviceID != "phone-1":
		t.Fatalf("device %+v, want person %d phone-1", d, w.id)
	}
	return true
}

func TestDeviceCacheAnswersFromMemoryUntilTTL(t *testing.T) {
	w := newTokenWorld(t)
	c := w.cache(store.DeviceCacheConfig{TTL: time.Minute})
	if !w.answers(t, c) {
		t.Fatal("a valid token was refused")
	}
	w.revoke(t)
	w.now = w.now.Add(59 * time.Second)
	if !w.answers(t, c) {
		t.Fatal("within the TTL the cache asked the database again")
	}
	w.now = w.now.Add(time.Second)
	if w.answers(t, c) {
		t.Fatal("after the TTL the cache still trusted a token the database no longer has")
	}
	if c.Len() != 0 {
		t.Fatalf("%d tokens cached after the only one was refused", c.Len())
	}
}

func TestDeviceCacheForgets(t *testing.T) {
	for name, forget := range map[string]func(*store.DeviceCache, int64){
		"the person": func(c *store.DeviceCache, id int64) { c.Forget(id) },
		"everyone":   func(c *store.DeviceCache, _ int64) { c.ForgetAll() },
	} {
		t.Run(name, func(t *testing.T) {
			w := newTokenWorld(t)
			c := w.cache(store.DeviceCacheConfig{})
			w.answers(t, c)
			w.revoke(t)
			c.Forget(w.id + 1) // someone else: changes nothing
			if !w.answers(t, c) {
				t.Fatal("forgetting another person dropped this one")
			}
			forget(c, w.id)
			if w.answers(t, c) {
				t.Fatal("a forgotten token was still taken")
			}
		})
	}
}

func TestDeviceCacheBypassedWhileNotLive(t *testing.T) {
	w := newTokenWorld(t)
	live := false
	c := w.cache(store.DeviceCacheConfig{Live: func() bool { return live }})
	w.answers(t, c)
	if c.Len() != 0 {
		t.Fatal("a token was cached while removals were not heard")
	}
	live = true
	w.answers(t, c)
	w.revoke(t)
	live = false
	if w.answers(t, c) {
		t.Fatal("while not live the cache answered from memory")
	}
}

func TestDeviceCacheNeverCachesUnknownTokensAndStaysBounded(t *testing.T) {
	w := newTokenWorld(t)
	c := w.cache(store.DeviceCacheConfig{Max: 2})
	ctx := context.Background()
	if _, err := c.DeviceByDigest(ctx, sha256.Sum256([]byte("not yet"))); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	if _, err := w.db.Exec(ctx, `UPDATE person_key SET token_hash = $1 WHERE person_id = $2`, store.HashToken("not yet"), w.id); err != nil {
		t.Fatal(err)
	}
	if d, err := c.DeviceByDigest(ctx, sha256.Sum256([]byte("not yet"))); err != nil || d.PersonID != w.id {
		t.Fatalf("a token refused once stayed refused: %+v, %v", d, err)
	}
	for i := range 3 {
		p, err := w.s.CreatePerson(ctx, "Other", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeviceByDigest(ctx, sha256.Sum256([]byte(p.Token))); err != nil {
			t.Fatal(err)
		}
		if n := c.Len(); n > 2 || n < 1 {
			t.Fatalf("after %d more tokens the cache holds %d, want 1 or 2", i+1, n)
		}
	}
}

// A lookup that a removal overtook must not be cached: the removal may be
// this very person's, heard while the database answered.
func TestDeviceCacheDropsALookupARemovalOvertook(t *testing.T) {
	w := newTokenWorld(t)
	var c *store.DeviceCache
	lookups, overtake := 0, true
	c = store.NewDeviceCache(func(ctx context.Context, digest [sha256.Size]byte) (store.Device, error) {
		lookups++
		d, err := w.s.DeviceByDigest(ctx, digest)
		if overtake {
			c.Forget(w.id + 1) // any removal: the cache cannot tell whose it would have been
		}
		return d, err
	}, store.DeviceCacheConfig{})
	w.answers(t, c)
	w.answers(t, c)
	if lookups != 2 || c.Len() != 0 {
		t.Fatalf("after overtaken lookups: %d lookups, %d cached; want 2 and 0", lookups, c.Len())
	}
	overtake = false
	w.answers(t, c)
	w.answers(t, c)
	if lookups != 3 || c.Len() != 1 {
		t.Fatalf("after a clean lookup: %d lookups, %d cached; want 3 and 1", lookups, c.Len())
	}
}

// A full cache drops its expired tokens and keeps the rest when that frees
// a tenth of it; when it frees less, it drops everything rather than scan
// the whole cache again at the next lookup.
func TestDeviceCacheEvictsExpiredTokensFirst(t *testing.T) {
	w := newTokenWorld(t)
	ctx := context.Background()
	digests := make([][sha256.Size]byte, 21)
	for i := range digests {
		p, err := w.s.CreatePerson(ctx, fmt.Sprint("Phone ", i), "")
		if err != nil {
			t.Fatal(err)
		}
		digests[i] = sha256.Sum256([]byte(p.Token))
	}
	start := w.now
	// fill caches digests[0:expiring] at 0 s and the rest of the first 20
	// at 30 s (full: Max 20), then one more at 61 s, and reports how many
	// tokens are cached and how many lookups a cached one cost again.
	fill := func(expiring int) (int, int) {
		lookups := 0
		c := store.NewDeviceCache(func(ctx context.Context, digest [sha256.Size]byte) (store.Device, error) {
			lookups++
			return w.s.DeviceByDigest(ctx, digest)
		}, store.DeviceCacheConfig{Max: 20, TTL: time.Minute, Now: func() time.Time { return w.now }})
		for i, d := range digests {
			switch i {
			case 0:
				w.now = start
			case expiring:
				w.now = start.Add(30 * time.Second)
			case 20:
				w.now = start.Add(61 * time.Second)
			}
			if _, err := c.DeviceByDigest(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		before := lookups
		if _, err := c.DeviceByDigest(ctx, digests[19]); err != nil {
			t.Fatal(err)
		}
		return c.Len(), lookups - before
	}
	if n, again := fill(2); n != 19 || again != 0 {
		t.Errorf("two of 20 expired: %d cached and %d lookups for an unexpired token, want 19 and 0", n, again)
	}
	if n, _ := fill(1); n != 2 {
		t.Errorf("one of 20 expired: %d cached, want 2 (the cache started over)", n)
	}
}
