package main

import (
	"sync"
	"sync/atomic"
)

// answerBook holds when each (person, version) move was answered, for a
// thousand subscribers that look one up for every frame, hundreds of
// thousands a second. Each person has a fixed number of slots from its
// starting version on, read without hashing or locks (a sync.Map of every
// move was 2 % of the machine's samples in run C); moves beyond them, when
// the writer has moved someone more than its share, go to a map.
type answerBook struct {
	base  []int32        // per person: the version before the phase
	per   int64          // slots per person
	slots []atomic.Int64 // [id*per + version-base-1]: ns since epoch, 0 until answered
	more  sync.Map       // moveKey(id, version) -> ns since epoch, past the slots
}

func newAnswerBook(base []int32, per int) *answerBook {
	per = max(per, 1)
	return &answerBook{base: base, per: int64(per), slots: make([]atomic.Int64, len(base)*per)}
}

func moveKey(id, version int64) uint64 { return uint64(id)<<32 | uint64(uint32(version)) }

func (a *answerBook) slot(id, version int64) *atomic.Int64 {
	if id < 0 || id >= int64(len(a.base)) {
		return nil
	}
	k := version - int64(a.base[id]) - 1
	if k < 0 || k >= a.per {
		return nil
	}
	return &a.slots[id*a.per+k]
}

// store records a move's answer time, at > 0.
func (a *answerBook) store(id, version, at int64) {
	if s := a.slot(id, version); s != nil {
		s.Store(at)
		return
	}
	a.more.Store(moveKey(id, version), at)
}

// load returns a move's answer time and whether it has been answered.
func (a *answerBook) load(id, version int64) (int64, bool) {
	if s := a.slot(id, version); s != nil {
		at := s.Load()
		return at, at != 0
	}
	at, ok := a.more.Load(moveKey(id, version))
	if !ok {
		return 0, false
	}
	return at.(int64), true
}
