package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// counter LISTENs on person_updated on its own connection and counts the
// payloads, as a second server instance would receive them.
type counter struct {
	n      atomic.Int64
	cancel context.CancelFunc
	done   chan struct{}
}

func (b *bench) startCounter(ctx context.Context) error {
	c, err := b.listen(ctx, "notification counter")
	if err != nil {
		return err
	}
	b.counter = c
	return nil
}

func (b *bench) stopCounter() {
	if b.counter != nil {
		b.counter.stop()
		b.counter = nil
	}
}

// listen opens a LISTEN connection that takes every notification and counts
// it until stopped.
func (b *bench) listen(ctx context.Context, what string) (*counter, error) {
	conn, err := pgx.Connect(ctx, b.dsn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if _, err := conn.Exec(ctx, "LISTEN person_updated"); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	lctx, cancel := context.WithCancel(ctx)
	c := &counter{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer conn.Close(context.Background())
		for {
			if _, err := conn.WaitForNotification(lctx); err != nil {
				if lctx.Err() == nil {
					b.logf("%s stopped: %v", what, err)
				}
				return
			}
			c.n.Add(1)
		}
	}()
	return c, nil
}

func (c *counter) stop() {
	c.cancel()
	<-c.done
}

// window measures one phase (HTTP or pgbench): the moves committed in it (from the
// versions) and the notifications that reached the counter for them.
type window struct {
	n0, v0 int64
}

func (b *bench) openWindow(ctx context.Context) (window, error) {
	b.settle(ctx, -1)
	v, err := sumVersions(ctx, b.db)
	return window{n0: b.counter.n.Load(), v0: v}, err
}

// tally adds up windows: notifications received and moves committed.
type tally struct{ notified, moves int64 }

// closeWindow waits until the notifications of the phase's moves have
// arrived (or stopped arriving), and adds both to t.
func (b *bench) closeWindow(ctx context.Context, w window, t *tally) error {
	v, err := sumVersions(ctx, b.db)
	if err != nil {
		return err
	}
	moves := v - w.v0
	got := b.settle(ctx, w.n0+moves) - w.n0
	t.notified += got
	t.moves += moves
	b.logf("  notified %d of %d committed moves", got, moves)
	return nil
}

// settle waits until the counter reaches want (want < 0: until it stops
// moving), or has not moved for 3 s, and returns its value.
func (b *bench) settle(ctx context.Context, want int64) int64 {
	last, still := b.counter.n.Load(), time.Now()
	for ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		n := b.counter.n.Load()
		if want >= 0 && n >= want {
			return n
		}
		if n != last {
			last, still = n, time.Now()
			continue
		}
		if time.Since(still) > 3*time.Second || (want < 0 && time.Since(still) > 300*time.Millisecond) {
			return n
		}
	}
	return last
}
