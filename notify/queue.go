package notify

// entry is one queued message. Events carry their person's id and version so
// the queue can coalesce them and a snapshot can drop the stale ones.
type entry struct {
	id      int64 // 0: never coalesced (snapshots, errors)
	version int64
	deleted bool
	msg     []byte
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
// messages, a newer event for a person replaces that person's latest queued
// one in place (earlier ones for the person stay ahead of it, so versions
// still arrive in order).
type queue struct {
	entries []entry
	index   map[int64]int // person id -> position of its latest entry
	bytes   int           // size of the coalescable messages queued
}

func (q *queue) len() int { return len(q.entries) }

func (q *queue) push(e entry) {
	if e.id != 0 {
		if i, ok := q.index[e.id]; ok && len(q.entries) >= coalesceAfter {
			q.bytes += len(e.msg) - len(q.entries[i].msg)
			q.entries[i] = e
			return
		}
		if q.index == nil {
			q.index = make(map[int64]int)
		}
		q.index[e.id] = len(q.entries)
	}
	q.bytes += len(e.msg)
	q.entries = append(q.entries, e)
}

// pushSnapshot queues a snapshot without counting its bytes: it is as large
// as the filter makes it and must be sent whatever the byte bound says.
func (q *queue) pushSnapshot(msg []byte) {
	q.entries = append(q.entries, entry{msg: msg})
}

// reset empties the queue, keeping small buffers for reuse but letting the
// garbage collector have the ones a burst made large.
func (q *queue) reset() {
	if cap(q.entries) > 256 {
		q.entries = nil
	} else {
		clear(q.entries)
		q.entries = q.entries[:0]
	}
	if len(q.index) > 64 {
		q.index = nil
	} else {
		clear(q.index)
	}
	q.bytes = 0
}
