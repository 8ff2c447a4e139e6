package notify

// entry is one queued message. Events carry their person's id and version so
// the queue can coalesce them and a snapshot can drop the stale ones.
type entry struct {
	id      int64 // 0: never coalesced (snapshots, errors)
	version int64
	deleted bool
	msg     Message
	dead    bool // coalesced away by a later entry for the same person
}

// staleFor reports whether the client, holding version floor of the person,
// must not see e. A tombstone may repeat the last version, so it is stale
// only when strictly older.
func (e entry) staleFor(floor int64) bool {
	if e.deleted {
		return e.version < floor
	}
	return e.version <= floor
}

// coalesceAfter is how far a subscriber may fall behind before its queue
// starts dropping intermediate moves: a client that keeps up sees every
// version, one that lags costs one entry per person, not one per move.
const coalesceAfter = 64

// queue is a subscriber's outbound queue. Once it holds coalesceAfter
// messages, a newer event for a person drops that person's queued one and
// goes to the back. Moving it back, not replacing in place, keeps cursors
// right: a message's cursor vouches for every change before it, and the
// newer event's cursor may vouch for changes still queued behind the old
// slot.
type queue struct {
	entries   []entry
	index     map[int64]int // person id -> position of its latest entry; nil until needed
	bytes     int           // size of the coalescable messages queued
	dead      int           // coalesced entries still in entries
	coalesced int64         // events dropped by coalescing since the last take
}

// len counts the messages that will be sent.
func (q *queue) len() int { return len(q.entries) - q.dead }

func (q *queue) push(e entry) {
	if e.id != 0 && q.len() >= coalesceAfter {
		if q.index == nil {
			q.buildIndex()
		}
		if i, ok := q.index[e.id]; ok {
			q.bytes -= len(q.entries[i].msg.JSON)
			q.entries[i] = entry{dead: true}
			q.dead++
			q.coalesced++
			if q.dead > len(q.entries)/2 {
				q.compact()
			}
		}
	}
	if e.id != 0 && q.index != nil {
		q.index[e.id] = len(q.entries)
	}
	q.bytes += len(e.msg.JSON)
	q.entries = append(q.entries, e)
}

// buildIndex starts tracking each person's latest entry. A subscriber that
// keeps up never needs it, so the map is built only once the queue is long
// enough to coalesce: publishing to a thousand subscribers then costs no
// map operation each.
func (q *queue) buildIndex() {
	q.index = make(map[int64]int, len(q.entries))
	for i, e := range q.entries {
		if e.id != 0 && !e.dead {
			q.index[e.id] = i
		}
	}
}

// compact drops dead entries, so a subscriber that lags behind a few busy
// people does not grow its queue with holes.
func (q *queue) compact() {
	live := q.entries[:0]
	for _, e := range q.entries {
		if e.dead {
			continue
		}
		if e.id != 0 {
			q.index[e.id] = len(live)
		}
		live = append(live, e)
	}
	clear(q.entries[len(live):])
	q.entries = live
	q.dead = 0
}

// pushSnapshot queues a snapshot without counting its bytes: it is as large
// as the filter makes it and must be sent whatever the byte bound says.
func (q *queue) pushSnapshot(m Message) {
	q.entries = append(q.entries, entry{msg: m})
}

// reset empties the queue. It keeps a buffer of up to coalesceAfter slots
// (a busy subscriber drains about a dozen messages at a time, dozens when
// the machine stalls, and regrowing the buffer each time was GC work), but
// not what a burst needed.
func (q *queue) reset() {
	if cap(q.entries) > coalesceAfter {
		q.entries = nil
	} else {
		clear(q.entries)
		q.entries = q.entries[:0]
	}
	q.index = nil
	q.bytes = 0
	q.dead = 0
}
