package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"whereabouts/geo"
)

// healthCheck is how long the listener waits in silence before it pings the
// server: a half-open TCP connection would otherwise look like a quiet night.
const healthCheck = 30 * time.Second

// markEvery is how often, while people move, the listener sends a horizon
// marker. The cursor events carry lags by about this much, so a resuming
// client gets that much again (and drops it by version).
const markEvery = 250 * time.Millisecond

// horizonMarker notifies the xmin of its own snapshot. Every transaction
// below it had committed before the marker's transaction began, so its
// notifications are ahead of the marker in PostgreSQL's notification queue,
// which every listener reads in order: a listener that receives the marker
// has published every change below it, and may Advance the hub's cursor.
const horizonMarker = `SELECT pg_notify('` + HorizonChannel + `', pg_snapshot_xmin(pg_current_snapshot())::text)`

// Listener feeds the hub from PostgreSQL: it LISTENs on Channel over its own
// connection and, since notifications sent while it is away are lost,
// resyncs from the Source every time it (re)connects. It also keeps the
// hub's cursor moving with horizon markers (see horizonMarker).
type Listener struct {
	ConnConfig *pgx.ConnConfig
	Hub        *Hub
	Source     Source
	Log        *slog.Logger
	// Reconnect delays; zero values take 100ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// Forget, when set, hears of every removal the listener publishes, and
	// of every (re)connection, when removals may have passed unheard.
	Forget Forgetter

	ready                                          atomic.Bool
	received, decodeFailures, reconnects, lastSync atomic.Int64
	resyncs, resynced                              atomic.Int64
}

// ListenerStats are the listener's counters, for metrics and /readyz.
type ListenerStats struct {
	Received       int64 // notifications received
	DecodeFailures int64 // payloads (live or resynced) that were not a valid person Feature
	Reconnects     int64 // times the listener was ready again after losing its connection
	LastResync     int64 // Unix milliseconds when the last resync finished, 0 before the first
	Resyncs        int64 // resyncs done
	Resynced       int64 // changes read by them
}

// Ready reports whether the listener is connected, listening and caught up.
func (l *Listener) Ready() bool { return l.ready.Load() }

// Stats returns the current counters.
func (l *Listener) Stats() ListenerStats {
	return ListenerStats{
		Received:       l.received.Load(),
		DecodeFailures: l.decodeFailures.Load(),
		Reconnects:     l.reconnects.Load(),
		LastResync:     l.lastSync.Load(),
		Resyncs:        l.resyncs.Load(),
		Resynced:       l.resynced.Load(),
	}
}

// Run listens until ctx ends, reconnecting with capped exponential backoff.
// It returns nil when ctx ends; connection errors are logged, not returned.
func (l *Listener) Run(ctx context.Context) error {
	if l.ConnConfig == nil || l.Hub == nil || l.Source == nil {
		return errors.New("notify: listener needs ConnConfig, Hub and Source")
	}
	minDelay := orDefault(l.MinBackoff, 100*time.Millisecond)
	maxDelay := max(orDefault(l.MaxBackoff, 5*time.Second), minDelay)
	delay := minDelay
	everReady := false
	for {
		err := l.session(ctx, func() {
			if everReady {
				l.reconnects.Add(1)
			}
			everReady = true
			delay = minDelay
		})
		l.ready.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		wait := jitter(delay)
		l.logger().Warn("notify: listener disconnected", "err", err, "retry_in", wait)
		if !sleep(ctx, wait) {
			return nil
		}
		delay = min(2*delay, maxDelay)
	}
}

// session is one connection's life: connect, LISTEN, resync, then wait for
// notifications until something fails. onReady runs once it is caught up;
// the backoff resets only then, so a server that accepts connections but
// cannot answer the resync is not hammered.
func (l *Listener) session(ctx context.Context, onReady func()) error {
	conn, err := pgx.ConnectConfig(ctx, l.ConnConfig)
	if err != nil {
		return fmt.Errorf("notify: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	for _, ch := range []string{Channel, HorizonChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("notify: listen %s: %w", ch, err)
		}
	}
	// Removals while away were not heard; from here on they are.
	if l.Forget != nil {
		l.Forget.ForgetAll()
	}
	// After LISTEN, so a change is either in the resync or notified (or
	// both: the hub drops the duplicate by version). The hub's cursor is
	// 0 at first: the first resync seeds it with everyone.
	if err := l.resync(ctx, l.Hub.Cursor()); err != nil {
		return err
	}
	l.ready.Store(true)
	onReady()
	return l.wait(ctx, conn)
}

// resync publishes every change since cursor, then advances the hub's
// cursor to the read's: everything below it is now published.
func (l *Listener) resync(ctx context.Context, cursor uint64) error {
	features, next, kept, err := l.Source.ChangesSince(ctx, cursor)
	if err == nil && !kept {
		// Away so long that removals were pruned: publish everyone kept.
		// Markers of people deleted meanwhile stay on maps until they
		// reconnect.
		l.logger().Warn("notify: listener cursor expired, resyncing everyone", "cursor", cursor)
		features, next, _, err = l.Source.ChangesSince(ctx, 0)
	}
	if err != nil {
		return fmt.Errorf("notify: resync from %d: %w", cursor, err)
	}
	for _, f := range features {
		l.publish(f, "resync")
	}
	l.Hub.Advance(next)
	l.lastSync.Store(time.Now().UnixMilli())
	l.resyncs.Add(1)
	l.resynced.Add(int64(len(features)))
	l.logger().Info("notify: listener resynced", "from", cursor, "to", next, "changes", len(features))
	return nil
}

// wait hands notifications to the hub until the connection fails or ctx
// ends. While people move it sends a horizon marker every markEvery; in
// silence it pings every healthCheck.
func (l *Listener) wait(ctx context.Context, conn *pgx.Conn) error {
	moved := false // since the last marker
	lastMark := time.Now()
	for {
		if moved && time.Since(lastMark) >= markEvery {
			mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := conn.Exec(mctx, horizonMarker)
			cancel()
			if err != nil {
				return fmt.Errorf("notify: horizon marker: %w", err)
			}
			moved, lastMark = false, time.Now()
		}
		timeout := healthCheck
		if moved {
			timeout = max(markEvery-time.Since(lastMark), time.Millisecond)
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil && n.Channel == HorizonChannel:
			l.advance(n.Payload)
		case err == nil:
			l.received.Add(1)
			l.publish([]byte(n.Payload), "notification")
			moved = true
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) && moved:
			// Time for a marker.
		case pgconn.Timeout(err):
			// Silence: make sure the server is still there.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("notify: health check: %w", err)
			}
		default:
			return fmt.Errorf("notify: wait for notification: %w", err)
		}
	}
}

// advance applies a horizon marker, this instance's or another's: a marker
// vouches for the queue ahead of it whoever sent it.
func (l *Listener) advance(payload string) {
	cursor, err := strconv.ParseUint(payload, 10, 64)
	if err != nil {
		l.decodeFailures.Add(1)
		l.logger().Warn("notify: dropping bad horizon marker", "payload", payload)
		return
	}
	l.Hub.Advance(cursor)
}

// publish decodes a Feature and gives it to the hub. A bad payload is a bug
// or tampering upstream, never a reason to stop listening.
func (l *Listener) publish(feature []byte, from string) {
	ev, err := geo.DecodePersonFeature(feature)
	if err != nil {
		l.decodeFailures.Add(1)
		l.logger().Warn("notify: dropping undecodable person feature",
			"from", from, "err", err, "bytes", len(feature))
		return
	}
	if ev.Deleted && l.Forget != nil {
		l.Forget.Forget(ev.ID)
	}
	l.Hub.Publish(ev, feature)
}

// Forgetter drops what a cache holds about people (the device tokens the
// API has checked), so that it never outlives them.
type Forgetter interface {
	Forget(personID int64) // this person was removed
	ForgetAll()            // removals may have passed unheard
}

func (l *Listener) logger() *slog.Logger {
	if l.Log != nil {
		return l.Log
	}
	return slog.Default()
}

// jitter spreads the reconnects of many instances over [d/2, d].
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(half+1)
}

// sleep waits d or until ctx ends; it reports whether the full d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
