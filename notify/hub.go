package notify

import (
	"context"
	"errors"
	"log/slog"
	"sync"

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
	MaxQueueBytes   int          // default 4 MiB, snapshots not counted
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
	closed bool
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
	}
	if h.maxEntries <= 0 {
		h.maxEntries = 10_000
	}
	if h.maxBytes <= 0 {
		h.maxBytes = 4 << 20
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
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
	var msg []byte // encoded once, and only if someone wants it
	for s := range h.subs {
		if !s.wantsLocked(ev, prev, seen) {
			continue
		}
		if msg == nil {
			msg = eventMessage(ev, feature)
		}
		if !h.enqueueLocked(s, entry{id: ev.ID, version: ev.Version, deleted: ev.Deleted, msg: msg}) {
			dropped++
		}
	}
	return dropped
}

// Subscribe registers a subscriber, then reads its snapshot from src and
// queues it ahead of every event that happened meanwhile (subscribe, then
// snapshot: no event can fall between the two).
func (h *Hub) Subscribe(ctx context.Context, src Source, f geo.Filter, scope Scope) (*Subscriber, error) {
	s := &Subscriber{
		hub:   h,
		scope: scope,
		ready: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrHubClosed
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	if err := s.SetFilter(ctx, src, f); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Subscribers reports how many subscribers are connected, for metrics.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
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
	if s.q.len() > h.maxEntries || s.q.bytes > h.maxBytes {
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
	s.floors = nil
	delete(h.subs, s)
	close(s.done)
}
