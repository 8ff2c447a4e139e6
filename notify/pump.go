package notify

import (
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// pump writes a subscriber's messages to a raw connection, for the
// transports that own their connection (WebSocket, SSE). No goroutine waits
// for messages: the hub calls wake when it queues some, and a drain
// goroutine runs until the queue is empty. Each drained batch goes out in
// one writev of the hub's shared bytes and a few framing bytes of this
// connection's.
type pump struct {
	sub          *Subscriber
	raw          net.Conn
	log          *slog.Logger
	writeTimeout time.Duration
	transport    transportConn

	writeMu     sync.Mutex  // orders every write on raw
	writing     atomic.Bool // a drain goroutine runs (or none may start yet)
	linger      linger      // the writer's: see linger
	lingerTimer *time.Timer // starts a writer once the linger is over; made by the first wake, so an idle stream holds none
	writeFailed atomic.Bool
}

// transportConn is what a pump needs from its transport.
type transportConn interface {
	// frame appends the buffers that carry m (m.JSON shared, not copied);
	// last says m ends this write.
	frame(sc *scratch, m Message, last bool)
	// goodbye ends the stream once the subscriber is dropped: a last
	// word to the client if one is due, then closing.
	goodbye()
}

// subscribe registers want with hub for transport, with the pump's wake
// hook. It runs before the connection is taken over: a database that cannot
// give a snapshot is still an HTTP status (see writeUnavailable) that the
// client and the load balancer understand. No writer runs until begin.
func (p *pump) subscribe(r *http.Request, hub *Hub, src Source, want Subscription, transport string) error {
	p.writing.Store(true)
	want.Transport = transport
	want.wake = p.wake
	sub, err := hub.Subscribe(r.Context(), src, want)
	if err != nil {
		p.log.Warn("notify: subscribe", "transport", transport, "err", err)
		return err
	}
	p.sub = sub
	return nil
}

// begin lets writers run, and starts one for what was queued while
// subscribing (the snapshot). It lingers like any writer, but sleeping: the
// pump's reused timer is made only for a stream that gets messages, so an
// idle stream holds none. (Writing the snapshot at once instead measured
// about 200 bytes more per idle WebSocket: 7,720-8,414 in six runs against
// 7,664-8,011.)
func (p *pump) begin() {
	p.writing.Store(false)
	if p.sub.needsWriter() && p.writing.CompareAndSwap(false, true) {
		go p.drainAfter(p.linger.wait())
	}
}

func (p *pump) drainAfter(d time.Duration) {
	time.Sleep(d)
	p.drain()
}

// wake is the subscriber's hook: it runs under the hub's lock, so it only
// starts a writer if none runs, after the linger. The timer is the pump's
// own and reused: a new one (what time.Sleep in a fresh goroutine costs)
// for each of tens of thousands of wakes a second was a tenth of the
// server's allocations in fan-out run C.
func (p *pump) wake() {
	if !p.writing.CompareAndSwap(false, true) {
		return
	}
	d := p.linger.wait()
	if p.lingerTimer == nil {
		p.lingerTimer = time.AfterFunc(d, p.drain)
		return
	}
	p.lingerTimer.Reset(d)
}

// drain writes what is queued until nothing is, then ends; when the
// subscriber was dropped it says goodbye instead.
func (p *pump) drain() {
	for {
		if p.sub.Dropped() {
			p.transport.goodbye() // writing stays true: no writer after this one
			return
		}
		if err := p.flush(); err != nil {
			p.log.Debug("notify: stream write", "transport", p.sub.transport, "err", err)
			p.writeFailed.Store(true)
			p.sub.Close()
			continue // to goodbye
		}
		p.writing.Store(false)
		// A message queued after flush took the queue found a writer
		// running and started none: look again.
		if !p.sub.needsWriter() || !p.writing.CompareAndSwap(false, true) {
			return
		}
	}
}

// scratch is a writer's reusable buffers, pooled so that an idle connection
// holds none.
type scratch struct {
	msgs  []Message
	heads []byte // framing bytes; grown up front so slices of it never move
	bufs  net.Buffers
}

// head appends b's framing bytes as one buffer.
func (sc *scratch) head(b []byte) {
	start := len(sc.heads)
	sc.heads = append(sc.heads, b...)
	sc.bufs = append(sc.bufs, sc.heads[start:len(sc.heads):len(sc.heads)])
}

// maxHead bounds the framing bytes of one message.
const maxHead = 64

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (p *pump) flush() error {
	sc := scratchPool.Get().(*scratch)
	defer func() {
		clear(sc.msgs)
		clear(sc.bufs)
		if cap(sc.msgs) > 1024 {
			*sc = scratch{} // a burst: do not pool its buffers
		}
		scratchPool.Put(sc)
	}()
	sc.msgs = p.sub.Next(sc.msgs[:0])
	if len(sc.msgs) == 0 {
		return nil
	}
	p.linger.flushed(len(sc.msgs), time.Now())
	sc.heads = slices.Grow(sc.heads[:0], maxHead*len(sc.msgs))
	sc.bufs = sc.bufs[:0]
	for i, m := range sc.msgs {
		p.transport.frame(sc, m, i == len(sc.msgs)-1)
	}
	bufs := sc.bufs // WriteTo consumes the slice it is called on
	return p.write(&bufs)
}

// write sends bufs with the write deadline, after any write in progress.
func (p *pump) write(bufs *net.Buffers) error {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	if err := p.raw.SetWriteDeadline(time.Now().Add(p.writeTimeout)); err != nil {
		return err
	}
	_, err := bufs.WriteTo(p.raw)
	return err
}
