package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// DeviceCache remembers the device tokens it has checked. A phone sends
// every fix with its token; looking the token up on each request cost a
// query on a second connection before the write, and measured a third to
// two fifths of single-fix ingest (4,166-5,310 against 6,369-7,793 req/s
// with the admin token, which needs no lookup).
//
// A cached token must not outlive its person: the listener calls Forget
// for every removal it hears (from any instance, through NOTIFY) and
// ForgetAll whenever it connects, as removals may have passed unheard.
// While it is not connected (Live false) the cache is bypassed. A lookup
// that raced a removal is not cached, and every entry expires after TTL,
// which bounds a token changed behind the API's back (in SQL).
type DeviceCache struct {
	lookup func(ctx context.Context, digest [sha256.Size]byte) (Device, error)
	ttl    time.Duration
	max    int
	now    func() time.Time
	live   func() bool

	mu       sync.Mutex
	byHash   map[[sha256.Size]byte]cachedDevice
	byPerson map[int64][sha256.Size]byte
	forgets  uint64 // counts Forget and ForgetAll calls, to spot a lookup that raced one
}

type cachedDevice struct {
	Device
	until time.Time
}

// DeviceCacheConfig sizes a DeviceCache. Zero fields take the defaults.
type DeviceCacheConfig struct {
	TTL time.Duration    // how long a checked token is trusted (default 1 minute)
	Max int              // most tokens kept; when full, expired ones go, or all if that frees less than a tenth (default 100,000)
	Now func() time.Time // the clock (default time.Now)
	// Live says removals are being heard (the listener is connected and
	// caught up); while false, every token is looked up. Default: always.
	Live func() bool
}

// NewDeviceCache caches lookup, normally a Store's DeviceByDigest.
func NewDeviceCache(lookup func(ctx context.Context, digest [sha256.Size]byte) (Device, error), cfg DeviceCacheConfig) *DeviceCache {
	c := &DeviceCache{lookup: lookup, ttl: cfg.TTL, max: cfg.Max, now: cfg.Now, live: cfg.Live,
		byHash: map[[sha256.Size]byte]cachedDevice{}, byPerson: map[int64][sha256.Size]byte{}}
	if c.ttl <= 0 {
		c.ttl = time.Minute
	}
	if c.max <= 0 {
		c.max = 100_000
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.live == nil {
		c.live = func() bool { return true }
	}
	return c
}

// DeviceByDigest is the lookup's answer, from the cache while the
// token was checked less than TTL ago. Unknown tokens are never cached: a
// new person's token works at once, and guessing fills nothing.
func (c *DeviceCache) DeviceByDigest(ctx context.Context, h [sha256.Size]byte) (Device, error) {
	if !c.live() {
		return c.lookup(ctx, h)
	}
	c.mu.Lock()
	e, ok := c.byHash[h]
	forgets := c.forgets
	c.mu.Unlock()
	if ok && c.now().Before(e.until) {
		return e.Device, nil
	}
	d, err := c.lookup(ctx, h)
	c.mu.Lock()
	defer c.mu.Unlock()
	if errors.Is(err, ErrNotFound) {
		c.dropLocked(h)
	}
	if err != nil {
		return d, err
	}
	if c.forgets != forgets {
		return d, nil // a removal passed while we looked: it may have been this person
	}
	if len(c.byHash) >= c.max {
		c.evictLocked()
	}
	if old, ok := c.byPerson[d.PersonID]; ok {
		delete(c.byHash, old)
	}
	c.byHash[h] = cachedDevice{Device: d, until: c.now().Add(c.ttl)}
	c.byPerson[d.PersonID] = h
	return d, nil
}

// evictLocked makes room: expired entries go, and if that freed less than
// a tenth of the cache, everything does (the next requests look their
// tokens up again). Each scan of the whole cache so frees room for at least
// a tenth of it, so more phones than Max cost a scan every Max/10 lookups,
// not one each.
func (c *DeviceCache) evictLocked() {
	now := c.now()
	for h, e := range c.byHash {
		if !now.Before(e.until) {
			c.dropLocked(h)
		}
	}
	if len(c.byHash) > c.max-max(c.max/10, 1) {
		clear(c.byHash)
		clear(c.byPerson)
	}
}

// dropLocked removes one token; its person's index entry goes only if it
// still names this token, so no cached token is ever out of Forget's reach.
func (c *DeviceCache) dropLocked(h [sha256.Size]byte) {
	e, ok := c.byHash[h]
	if !ok {
		return
	}
	delete(c.byHash, h)
	if c.byPerson[e.PersonID] == h {
		delete(c.byPerson, e.PersonID)
	}
}

// Forget drops the token of a removed person.
func (c *DeviceCache) Forget(personID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgets++
	if h, ok := c.byPerson[personID]; ok {
		delete(c.byHash, h)
		delete(c.byPerson, personID)
	}
}

// ForgetAll drops every token, for when removals may have gone unheard.
func (c *DeviceCache) ForgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgets++
	clear(c.byHash)
	clear(c.byPerson)
}

// Len is how many tokens are cached.
func (c *DeviceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byHash)
}
