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
	m, sf := newMatch(f, s.scope)
	gen, err := s.beginFilter(m)
	if err != nil {
		return err
	}
	var features [][]byte
	if !m.none {
		features, err = src.Snapshot(ctx, sf)
		if err != nil {
			err = fmt.Errorf("notify: snapshot: %w", err)
			s.hub.mu.Lock()
			s.hub.dropLocked(s, err)
			s.hub.mu.Unlock()
			return err
		}
	}
	if !s.install(gen, s.decodeSnapshot(features)) {
		s.hub.logDropped(1)
		return fmt.Errorf("notify: install snapshot: %w", ErrTooSlow)
	}
	return nil
}

func (s *Subscriber) beginFilter(m match) (uint64, error) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("notify: set filter: %w", s.errLocked())
	}
	s.m = m
	s.gen++
	s.installing = true
	s.q = queue{}
	s.floors = nil
	return s.gen, nil
}

// snapshot is a decoded snapshot: the message to send and, per person, the
// version it shows.
type snapshot struct {
	msg      []byte
	versions map[int64]int64
}

func (s *Subscriber) decodeSnapshot(features [][]byte) snapshot {
	snap := snapshot{versions: make(map[int64]int64, len(features))}
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
	snap.msg = snapshotMessage(good)
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
	s.q.pushSnapshot(snap.msg)
	for _, e := range old {
		if v, ok := snap.versions[e.id]; ok && e.staleFor(v) {
			continue
		}
		s.q.push(e)
	}
	for id, v := range snap.versions {
		if known, ok := h.latest[id]; !ok || known.version < v {
			if s.floors == nil {
				s.floors = make(map[int64]int64)
			}
			s.floors[id] = v
		}
	}
	s.installing = false
	return h.checkLocked(s)
}
