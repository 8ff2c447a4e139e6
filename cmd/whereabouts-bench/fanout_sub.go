package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"whereabouts/geo"
)

// streamConn is a subscriber's connection, WebSocket or SSE.
type streamConn interface {
	streamReader
	arrival() int64 // when the last message's final byte was read, ns since the epoch
	reads() int64   // reads from the socket so far
	Close() error
}

// span is the measured part of a phase, in ns since its epoch: frames
// arriving in it are counted as delivered per second, and moves answered in
// it give latency samples.
type span struct{ from, to int64 }

func (w span) has(t int64) bool { return t >= w.from && t < w.to }

// fanoutSub is one subscriber. Its reading goroutine owns everything but
// updates, which the phase reads while waiting for the stream to drain.
type fanoutSub struct {
	box  *geo.BBox // nil: everyone
	path string    // the stream's path and query
	conn streamConn

	seen     []int32      // person id -> newest version held; -1: none
	updates  atomic.Int64 // update messages
	stale    int64        // updates not newer than what the subscriber held
	skipped  int64        // versions jumped over (everyone filter only: a bbox hides moves legitimately)
	other    int64        // remove, error and unknown messages
	bad      int64        // updates the parser could not read
	inWindow int64        // updates arriving inside the window
	lat      []uint32     // µs from the writer's answer to arrival, moves answered inside the window
	early    []arrival    // updates that arrived before the writer had its answer
	snapshot int          // bytes of the first snapshot
	err      error        // why the stream ended, unless the bench closed it
}

// arrival is an update that beat the writer's answer, matched afterwards.
type arrival struct {
	id, version int32
	at          int64
}

func newFanoutSub(people int, box *geo.BBox, expect int) *fanoutSub {
	s := &fanoutSub{box: box, seen: make([]int32, people+1), lat: make([]uint32, 0, expect)}
	for i := range s.seen {
		s.seen[i] = -1
	}
	return s
}

// readSnapshot reads the stream's first message, which must be a snapshot,
// into seen.
func (s *fanoutSub) readSnapshot() error {
	msg, err := s.conn.ReadMessage()
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	s.snapshot = len(msg)
	_, err = snapshotVersions(msg, func(id, v int64) {
		if id >= 1 && id < int64(len(s.seen)) {
			s.seen[id] = int32(v)
		}
	})
	return err
}

// read handles messages until the stream ends; stopping says whether the
// bench ended it.
func (s *fanoutSub) read(w *fanoutWriter, win span, stopping *atomic.Bool) {
	for {
		msg, err := s.conn.ReadMessage()
		if err != nil {
			if !stopping.Load() {
				s.err = err
			}
			return
		}
		s.handle(msg, s.conn.arrival(), w, win)
	}
}

func (s *fanoutSub) handle(msg []byte, at int64, w *fanoutWriter, win span) {
	kind, id, v, err := parseMessage(msg)
	switch {
	case kind == kindSnapshot:
		// Only after a filter change or resync, neither of which the bench
		// causes: count it, the versions check will tell.
		s.other++
		return
	case kind != kindUpdate:
		s.other++
		return
	case err != nil || id < 1 || id >= int64(len(s.seen)):
		s.bad++
		return
	}
	s.updates.Add(1)
	if win.has(at) {
		s.inWindow++
	}
	prev := int64(s.seen[id])
	if v <= prev {
		s.stale++
		return
	}
	if s.box == nil && prev >= 0 && v > prev+1 {
		s.skipped += v - prev - 1
	}
	s.seen[id] = int32(v)
	t, ok := w.answer(id, v)
	if !ok {
		s.early = append(s.early, arrival{id: int32(id), version: int32(v), at: at})
		return
	}
	s.sample(at, t, win)
}

// sample records one latency if its move was answered inside the window.
// A frame can beat the HTTP answer (the commit notifies before the server
// writes the answer); that is zero latency, not negative.
func (s *fanoutSub) sample(at, answered int64, win span) {
	if !win.has(answered) {
		return
	}
	us := max(at-answered, 0) / int64(time.Microsecond)
	s.lat = append(s.lat, uint32(min(us, 1<<32-1)))
}

// settle matches the early arrivals now that every answer is in, and
// returns how many were early and how many never matched a move.
func (s *fanoutSub) settle(w *fanoutWriter, win span) (early, unmatched int) {
	for _, a := range s.early {
		if t, ok := w.answer(int64(a.id), int64(a.version)); ok {
			s.sample(a.at, t, win)
		} else {
			unmatched++
		}
	}
	return len(s.early), unmatched
}

// expectation is what one subscriber should have received: the moves that
// concern it (to or from a point in its box; all of them without one) and,
// per person, the last such version.
type expectation struct {
	total    int64 // concerned moves of the whole phase
	inWindow int64 // of them answered inside the window
	lost     int64 // people whose newest version held is below the last concerned one
}

func (s *fanoutSub) concerns(m move) bool {
	return s.box == nil || s.box.Contains(m.from) || s.box.Contains(m.to)
}

// count counts the moves of the log (per person, in version order) that
// concern s. It reads nothing the reading goroutine writes.
func (s *fanoutSub) count(log [][]move, win span) expectation {
	var e expectation
	for _, ms := range log {
		for _, m := range ms {
			if s.concerns(m) {
				e.total++
				if win.has(m.at) {
					e.inWindow++
				}
			}
		}
	}
	return e
}

// expect is count plus the people s was left behind on; only once its
// stream has stopped.
func (s *fanoutSub) expect(log [][]move, win span) expectation {
	e := s.count(log, win)
	for id, ms := range log {
		for k := len(ms) - 1; k >= 0; k-- {
			if s.concerns(ms[k]) {
				if s.seen[id] < ms[k].version {
					e.lost++
				}
				break
			}
		}
	}
	return e
}

// drain waits until every subscriber has had at least the updates it
// should, or nothing has arrived for quiet, or ctx ends.
func drain(ctx context.Context, subs []*fanoutSub, want []int64, quiet, limit time.Duration) error {
	var last int64 = -1
	still, deadline := time.Now(), time.Now().Add(limit)
	for {
		var got int64
		done := true
		for i, s := range subs {
			n := s.updates.Load()
			got += n
			if n < want[i] {
				done = false
			}
		}
		if done {
			return nil
		}
		if got != last {
			last, still = got, time.Now()
		}
		if time.Since(still) > quiet || time.Now().After(deadline) {
			return fmt.Errorf("no update for %s while some subscribers still lacked versions (see missing)", quiet)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
