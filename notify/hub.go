package notify

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"whereabouts/geo"
)

// Why the hub dropped a subscriber; transports turn them into close codes.
var (
	// ErrTooSlow: the subscriber's queue overflowed. Catching up would cost
	// more than reconnecting and taking a fresh snapshot.
	ErrTooSlow = errors.New("too slow: queue overflow")
	// ErrHubClosed: the server is shutting down.
	ErrHubClosed = errors.New("server shutting down")
)

// Scope is what the caller's credentials allow. Every filter is intersected
// with it, so a client's subscribe message can never widen it.
type Scope struct {
	OnlyID int64 // non-zero: only this person (a device token that may see only itself)
}

// HubConfig bounds each subscriber's queue. Zero fields take the defaults.
type HubConfig struct {
	MaxQueueEntries int          // default 10,000 messages
	MaxQueueBytes   int          // default 1 MiB, snapshots not counted
	Log             *slog.Logger // dropped subscribers, bad snapshot rows; nil: slog.Default()
}

// Hub fans person events out to subscribers. One mutex guards the subscriber
// set, every subscriber's queue and the latest known state of each person:
// publishing only appends to queues, so the lock is never held across I/O.
type Hub struct {
	maxEntries, maxBytes int
	log                  *slog.Logger

	mu     sync.Mutex
	subs   map[*Subscriber]struct{}
	latest map[int64]personState // dedupe by version, detect moves out of a bbox
	cursor uint64                // what events published now carry (see Advance)
	index  grid                  // which subscribers an event may concern
	stamp  uint64                // events published, to visit each subscriber once per event
	closed bool

	delivered, coalesced, dropped atomic.Int64
}

type personState struct {
	version int64
	point   geo.Point
}

// NewHub returns an empty hub.
func NewHub(cfg HubConfig) *Hub {
	h := &Hub{
		maxEntries: cfg.MaxQueueEntries,
		maxBytes:   cfg.MaxQueueBytes,
		log:        cfg.Log,
		subs:       make(map[*Subscriber]struct{}),
		latest:     make(map[int64]personState),
		index:      newGrid(),
	}
	if h.maxEntries <= 0 {
		h.maxEntries = 10_000
	}
	if h.maxBytes <= 0 {
		h.maxBytes = 1 << 20
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

// Advance raises the cursor that events published from now on carry. The
// caller vouches that every change by a transaction below cursor has been
// published already (the listener learns it from a horizon marker or a
// resync), so a client holding an event resumes from its cursor without a
// gap. It never goes back.
func (h *Hub) Advance(cursor uint64) {
	h.mu.Lock()
	h.cursor = max(h.cursor, cursor)
	h.mu.Unlock()
}

// Cursor is what events published now carry; the listener resyncs from it.
func (h *Hub) Cursor() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cursor
}

// Publish routes one person event to every subscriber whose filter it
// concerns. Replays (version not newer than the hub already saw) are dropped,
// so the listener may resync as often as it likes. It never blocks on a
// subscriber. feature must be the Feature's JSON bytes; they are shared.
func (h *Hub) Publish(ev geo.PersonEvent, feature []byte) {
	h.mu.Lock()
	dropped := h.publishLocked(ev, feature)
	h.mu.Unlock()
	h.logDropped(dropped)
}

func (h *Hub) publishLocked(ev geo.PersonEvent, feature []byte) (dropped int) {
	if h.closed {
		return 0
	}
	prev, seen := h.latest[ev.ID]
	if ev.Deleted {
		// A tombstone may carry the person's last version.
		if seen && ev.Version < prev.version {
			return 0
		}
		delete(h.latest, ev.ID)
	} else {
		if seen && ev.Version <= prev.version {
			return 0
		}
		h.latest[ev.ID] = personState{version: ev.Version, point: ev.Point}
	}
	var msg Message // encoded once, and only if someone wants it
	visit := func(s *Subscriber) {
		if !s.wantsLocked(ev, prev, seen) {
			return
		}
		if msg.JSON == nil {
			msg = eventMessage(ev, feature, h.cursor)
		}
		if !h.enqueueLocked(s, entry{id: ev.ID, version: ev.Version, deleted: ev.Deleted, msg: msg}) {
			dropped++
		}
	}
	h.candidatesLocked(ev, prev, seen, visit)
	return dropped
}

// candidatesLocked calls f once for every subscriber ev may concern: those
// the grid lists by ev's old and new positions, or everyone for the removal
// of a person the hub never saw (see wantsLocked).
func (h *Hub) candidatesLocked(ev geo.PersonEvent, prev personState, seen bool, f func(*Subscriber)) {
	h.stamp++
	switch {
	case ev.Deleted && !seen:
		for s := range h.subs {
			f(s)
		}
	case ev.Deleted:
		h.index.each(prev.point, geo.Point{}, false, h.stamp, f)
	default:
		h.index.each(ev.Point, prev.point, seen, h.stamp, f)
	}
}

// Subscription is what a client asks for.
type Subscription struct {
	Filter geo.Filter
	Scope  Scope
	// Cursor, when not 0, resumes after a message the client got: it
	// receives every change since instead of a snapshot (or a snapshot
	// saying so, when the database no longer keeps that far back).
	Cursor    uint64
	Transport string // "websocket", "sse" or "poll", for metrics

	// wake, when set, replaces the Ready channel: the hub calls it, under
	// its lock, when messages are queued or the subscriber is dropped. It
	// must not block; it lets a transport run a writer only while there is
	// something to write.
	wake func()
}

// Subscribe registers a subscriber, then reads its snapshot (or the changes
// since its cursor) from src and queues it ahead of every event that
// happened meanwhile (subscribe, then read: no event can fall between the
// two).
func (h *Hub) Subscribe(ctx context.Context, src Source, sub Subscription) (*Subscriber, error) {
	s := &Subscriber{
		hub:       h,
		scope:     sub.Scope,
		transport: sub.Transport,
		wake:      sub.wake,
	}
	if s.wake == nil {
		s.ready = make(chan struct{}, 1)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrHubClosed
	}
	h.subs[s] = struct{}{}
	h.index.add(s)
	h.mu.Unlock()
	if err := s.setFilter(ctx, src, sub.Filter, sub.Cursor); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// HubStats are the hub's gauges and counters, for metrics.
type HubStats struct {
	Subscribers map[string]int // by transport
	QueueBytes  int64          // events queued for all subscribers, snapshots not counted
	Delivered   int64          // messages handed to transports
	Coalesced   int64          // events dropped because a newer one for the person was queued behind
	Dropped     int64          // subscribers closed for falling too far behind
}

// Stats reads the gauges and counters; it walks every subscriber.
func (h *Hub) Stats() HubStats {
	st := HubStats{Subscribers: make(map[string]int)}
	h.mu.Lock()
	for s := range h.subs {
		st.Subscribers[s.transport]++
		st.QueueBytes += int64(s.q.bytes)
	}
	h.mu.Unlock()
	st.Delivered = h.delivered.Load()
	st.Coalesced = h.coalesced.Load()
	st.Dropped = h.dropped.Load()
	return st
}

// Close drops every subscriber with ErrHubClosed and refuses new ones, so
// that transports say goodbye on shutdown.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		h.dropLocked(s, ErrHubClosed)
	}
}

// enqueueLocked queues e for s, or drops s if that overflows its queue; it
// reports whether s is still subscribed.
func (h *Hub) enqueueLocked(s *Subscriber, e entry) bool {
	if s.closed {
		return true // dropped earlier, and counted then
	}
	s.q.push(e)
	return h.checkLocked(s)
}

// checkLocked drops s if its queue is over a bound, else wakes its writer.
func (h *Hub) checkLocked(s *Subscriber) bool {
	if s.q.coalesced > 0 {
		h.coalesced.Add(s.q.coalesced)
		s.q.coalesced = 0
	}
	if s.q.len() > h.maxEntries || s.q.bytes > h.maxBytes {
		h.dropped.Add(1)
		h.dropLocked(s, ErrTooSlow)
		return false
	}
	s.signal()
	return true
}

// logDropped reports slow subscribers once the lock is released: a slow
// log sink must not stall the hub.
func (h *Hub) logDropped(n int) {
	if n > 0 {
		h.log.Warn("notify: dropped slow subscribers", "count", n,
			"max_queue_entries", h.maxEntries, "max_queue_bytes", h.maxBytes)
	}
}

// dropLocked removes s from the hub for good; err says why.
func (h *Hub) dropLocked(s *Subscriber, err error) {
	if s.closed {
		return
	}
	s.closed = true
	s.err = err
	s.q = queue{}
	s.setFloorsLocked(nil)
	h.index.remove(s)
	delete(h.subs, s)
	if s.done != nil {
		close(s.done)
	}
	if s.wake != nil {
		s.wake() // the writer says goodbye
	}
}
