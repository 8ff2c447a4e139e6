package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"whereabouts/geo"
)

// healthCheck is how long the listener waits in silence before it pings the
// server: a half-open TCP connection would otherwise look like a quiet night.
const healthCheck = 30 * time.Second

// Listener feeds the hub from PostgreSQL: it LISTENs on Channel over its own
// connection and, since notifications sent while it is away are lost,
// resyncs from the Source every time it (re)connects.
type Listener struct {
	ConnConfig *pgx.ConnConfig
	Hub        *Hub
	Source     Source
	Log        *slog.Logger
	// Reconnect delays; zero values take 100ms and 5s.
	MinBackoff, MaxBackoff time.Duration

	ready                                          atomic.Bool
	received, decodeFailures, reconnects, lastSync atomic.Int64
}

// ListenerStats are the listener's counters, for metrics and /readyz.
type ListenerStats struct {
	Received       int64 // notifications received
	DecodeFailures int64 // payloads (live or resynced) that were not a valid person Feature
	Reconnects     int64 // times the listener was ready again after losing its connection
	LastResync     int64 // Unix milliseconds when the last resync finished, 0 before the first
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
	var cursor uint64 // 0: the first resync seeds the hub with everyone
	delay := minDelay
	everReady := false
	for {
		err := l.session(ctx, &cursor, func() {
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
func (l *Listener) session(ctx context.Context, cursor *uint64, onReady func()) error {
	conn, err := pgx.ConnectConfig(ctx, l.ConnConfig)
	if err != nil {
		return fmt.Errorf("notify: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		return fmt.Errorf("notify: listen %s: %w", Channel, err)
	}
	// After LISTEN, so a change is either in the resync or notified (or
	// both: the hub drops the duplicate by version).
	next, err := l.resync(ctx, *cursor)
	if err != nil {
		return err
	}
	*cursor = next
	l.ready.Store(true)
	onReady()
	return l.wait(ctx, conn)
}

// resync publishes every change since cursor and returns the next cursor.
func (l *Listener) resync(ctx context.Context, cursor uint64) (uint64, error) {
	features, next, err := l.Source.ChangesSince(ctx, cursor)
	if err != nil {
		return cursor, fmt.Errorf("notify: resync from %d: %w", cursor, err)
	}
	for _, f := range features {
		l.publish(f, "resync")
	}
	l.lastSync.Store(time.Now().UnixMilli())
	l.logger().Info("notify: listener resynced", "from", cursor, "to", next, "changes", len(features))
	return next, nil
}

// wait hands notifications to the hub until the connection fails or ctx ends.
func (l *Listener) wait(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, healthCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			l.received.Add(1)
			l.publish([]byte(n.Payload), "notification")
		case ctx.Err() != nil:
			return ctx.Err()
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
	l.Hub.Publish(ev, feature)
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
