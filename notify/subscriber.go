package notify

import (
	"errors"

	"whereabouts/geo"
)

// Subscriber is one client's view of the hub: its filter and its outbound
// queue. A transport drains it with Next whenever Ready fires, and stops when
// Done is closed.
type Subscriber struct {
	hub       *Hub
	scope     Scope
	transport string
	wake      func()        // see Subscription.wake; nil: ready is used
	ready     chan struct{} // capacity 1: "there may be something to drain"
	done      chan struct{} // made by Done, closed when the hub drops the subscriber

	// Guarded by hub.mu.
	m          match
	q          queue
	floors     map[int64]int64 // person id -> snapshot version the hub had not reached yet
	installing bool            // between setting a filter and installing its snapshot
	gen        uint64          // filter generation; a stale snapshot is not installed
	cursor     uint64          // the highest cursor drained, or read by a resume that found nothing
	visited    uint64          // the hub's stamp of the last event that visited it
	closed     bool
	err        error
}

// wantsLocked decides whether ev concerns this subscriber. prev and seen are
// the hub's state of the person before ev.
func (s *Subscriber) wantsLocked(ev geo.PersonEvent, prev personState, seen bool) bool {
	if s.closed || !s.m.matchID(ev.ID) {
		return false
	}
	if floor, ok := s.floors[ev.ID]; ok {
		if (entry{version: ev.Version, deleted: ev.Deleted}).staleFor(floor) {
			return false
		}
		delete(s.floors, ev.ID)
		if len(s.floors) == 0 {
			s.setFloorsLocked(nil)
		}
		return true // the client holds this person from its snapshot
	}
	if ev.Deleted {
		// Not knowing where the person was, a harmless extra remove beats a
		// marker left on someone's map.
		return !seen || s.m.matchPoint(prev.point)
	}
	// A move out of the bbox is sent once so the map can drop the marker.
	return s.m.matchPoint(ev.Point) || (seen && s.m.matchPoint(prev.point))
}

// Next appends every queued message to dst, in order, and empties the queue.
// The bytes are shared with other subscribers: never modify them.
func (s *Subscriber) Next(dst []Message) []Message {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if s.closed || s.installing {
		return dst
	}
	n := len(dst)
	for _, e := range s.q.entries {
		if !e.dead {
			dst = append(dst, e.msg)
			s.cursor = max(s.cursor, e.msg.Cursor)
		}
	}
	s.hub.delivered.Add(int64(len(dst) - n))
	s.q.reset()
	return dst
}

// Cursor is where this client resumes from once it has every message Next
// returned: the highest cursor among them. Each message's own cursor is
// also safe to resume from, but may lag behind one sent earlier.
func (s *Subscriber) Cursor() uint64 {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.cursor
}

// SendError queues an error message for the client, e.g. about a bad
// subscribe message; the subscription goes on.
func (s *Subscriber) SendError(code, message string) {
	s.hub.mu.Lock()
	ok := s.hub.enqueueLocked(s, entry{msg: errorMessage(code, message)})
	s.hub.mu.Unlock()
	if !ok {
		s.hub.logDropped(1)
	}
}

// setFloorsLocked replaces the floors. A subscriber with floors holds people
// from its snapshot wherever the hub last saw them, so the grid shows it
// every event until the hub has caught up.
func (s *Subscriber) setFloorsLocked(floors map[int64]int64) {
	s.floors = floors
	if len(floors) > 0 {
		s.hub.index.floored[s] = struct{}{}
	} else {
		delete(s.hub.index.floored, s)
	}
}

// needsWriter reports whether a writer has work: messages to send, or a
// goodbye to say.
func (s *Subscriber) needsWriter() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.closed || (!s.installing && s.q.len() > 0)
}

// Ready fires when there may be messages to drain with Next. (A transport
// that subscribed with a wake hook gets that called instead.)
func (s *Subscriber) Ready() <-chan struct{} { return s.ready }

// Done is closed when the subscriber is dropped; Err then says why.
//
// The channel is made on first use: transports with a wake hook never wait
// on it (they ask Dropped), and an idle connection should not carry it.
func (s *Subscriber) Done() <-chan struct{} {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if s.done == nil {
		s.done = make(chan struct{})
		if s.closed {
			close(s.done)
		}
	}
	return s.done
}

// Dropped reports whether the hub dropped the subscriber (or it was closed).
func (s *Subscriber) Dropped() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.closed
}

// Err is why the hub dropped the subscriber (ErrTooSlow, ErrHubClosed, a
// snapshot error), or nil while it is open or after Close.
func (s *Subscriber) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

func (s *Subscriber) errLocked() error {
	if s.err == nil {
		return errors.New("notify: subscriber closed")
	}
	return s.err
}

// Close unsubscribes. It is safe to call more than once.
func (s *Subscriber) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.dropLocked(s, nil)
}

func (s *Subscriber) signal() {
	if s.wake != nil {
		s.wake()
		return
	}
	select {
	case s.ready <- struct{}{}:
	default: // already signalled; the writer will drain everything
	}
}
