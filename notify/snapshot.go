package notify

import (
	"context"
	"fmt"

	"whereabouts/geo"
)

// Subscribe-then-snapshot: the subscriber queues events from the moment its
// filter is set, the snapshot is read, and install puts the snapshot ahead
// of the queued events that are newer than it.

// SetFilter replaces the subscriber's filter (intersected with its scope) and
// queues a fresh snapshot for it ahead of any later event. Until then nothing
// is drained, and events queued for the old filter are dropped: the new
// snapshot replaces the client's whole picture. If the snapshot cannot be
// read, the subscriber is closed with that error.
func (s *Subscriber) SetFilter(ctx context.Context, src Source, f geo.Filter) error {
	return s.setFilter(ctx, src, f, 0)
}

// setFilter is SetFilter, resuming after cursor instead when it is not 0.
func (s *Subscriber) setFilter(ctx context.Context, src Source, f geo.Filter, cursor uint64) error {
	m, sf := newMatch(f, s.scope)
	gen, err := s.beginFilter(m)
	if err != nil {
		return err
	}
	var snap snapshot
	if m.none { // scoped out of everyone asked for: an empty snapshot says so
		snap = s.decodeSnapshot(nil, s.hub.Cursor(), "")
	} else if snap, err = s.read(ctx, src, m, sf, cursor); err != nil {
		s.hub.mu.Lock()
		s.hub.dropLocked(s, err)
		s.hub.mu.Unlock()
		return err
	}
	if !s.install(gen, snap) {
		s.hub.logDropped(1)
		return fmt.Errorf("notify: install snapshot: %w", ErrTooSlow)
	}
	return nil
}

// read fetches what the client lacks: the changes since cursor, or a
// snapshot when it has no cursor or one from further back than the database
// keeps.
func (s *Subscriber) read(ctx context.Context, src Source, m match, sf geo.Filter, cursor uint64) (snapshot, error) {
	reason := ""
	if cursor != 0 {
		features, next, kept, err := src.ChangesSince(ctx, cursor)
		if err != nil {
			return snapshot{}, fmt.Errorf("notify: resume: %w", err)
		}
		if kept {
			return s.decodeChanges(features, m, cursor, next), nil
		}
		reason = reasonCursorExpired
	}
	features, next, err := src.Snapshot(ctx, sf)
	if err != nil {
		return snapshot{}, fmt.Errorf("notify: snapshot: %w", err)
	}
	return s.decodeSnapshot(features, next, reason), nil
}

func (s *Subscriber) beginFilter(m match) (uint64, error) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("notify: set filter: %w", s.errLocked())
	}
	s.hub.index.remove(s)
	s.m = m
	s.hub.index.add(s)
	s.gen++
	s.installing = true
	s.q = queue{}
	s.setFloorsLocked(nil)
	return s.gen, nil
}

// snapshot is what a client gets first: the messages to send and, per
// person, the version they show.
type snapshot struct {
	msgs     []Message
	versions map[int64]int64
	cursor   uint64 // where the client stands once it has msgs
}

func (s *Subscriber) decodeSnapshot(features [][]byte, cursor uint64, reason string) snapshot {
	snap := snapshot{versions: make(map[int64]int64, len(features)), cursor: cursor}
	good := features[:0:0]
	for _, f := range features {
		ev, err := geo.DecodePersonFeature(f)
		if err != nil {
			// Without an id and version it cannot be ordered against events.
			s.hub.log.Warn("notify: skipping undecodable snapshot feature", "err", err)
			continue
		}
		snap.versions[ev.ID] = ev.Version
		good = append(good, f)
	}
	snap.msgs = []Message{snapshotMessage(good, cursor, reason)}
	return snap
}

// decodeChanges turns the changes since cursor into update and remove
// messages for the people the filter's ids and scope allow. A bbox does not
// narrow them: the client cannot know who left its box meanwhile, and an
// update outside it lets the map drop that marker. Every message but the
// last carries the old cursor, since the client resumes correctly only once
// it has them all; the last carries next.
func (s *Subscriber) decodeChanges(features [][]byte, m match, cursor, next uint64) snapshot {
	snap := snapshot{versions: make(map[int64]int64, len(features)), cursor: next}
	type change struct {
		ev      geo.PersonEvent
		feature []byte
	}
	var changes []change
	for _, f := range features {
		ev, err := geo.DecodePersonFeature(f)
		if err != nil {
			s.hub.log.Warn("notify: skipping undecodable change", "err", err)
			continue
		}
		if m.matchID(ev.ID) {
			snap.versions[ev.ID] = ev.Version
			changes = append(changes, change{ev, f})
		}
	}
	for i, c := range changes {
		at := cursor
		if i == len(changes)-1 {
			at = next
		}
		snap.msgs = append(snap.msgs, eventMessage(c.ev, c.feature, at))
	}
	return snap
}

// install puts the snapshot first in the queue, keeps only queued events
// newer than it, and remembers floors for people the hub has not caught up
// with, so their older events arriving later are dropped too. It reports
// false if the subscriber overflowed meanwhile and was dropped.
func (s *Subscriber) install(gen uint64, snap snapshot) bool {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed || gen != s.gen {
		return true // closed: said so already; superseded: the newer filter installs
	}
	old := s.q.entries
	s.q = queue{}
	for _, m := range snap.msgs {
		s.q.pushSnapshot(m)
	}
	s.cursor = max(s.cursor, snap.cursor)
	for _, e := range old {
		if v, ok := snap.versions[e.id]; (ok && e.staleFor(v)) || e.dead {
			continue
		}
		s.q.push(e)
	}
	floors := map[int64]int64(nil)
	for id, v := range snap.versions {
		if known, ok := h.latest[id]; !ok || known.version < v {
			if floors == nil {
				floors = make(map[int64]int64)
			}
			floors[id] = v
		}
	}
	s.setFloorsLocked(floors)
	s.installing = false
	return h.checkLocked(s)
}
