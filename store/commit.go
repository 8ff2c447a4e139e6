package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrClosed means the committer is shutting down and takes no more writes.
var ErrClosed = errors.New("store: committer closed")

// CommitConfig bounds a group commit. Zero fields take the defaults.
type CommitConfig struct {
	Shards   int            // independent collectors, one transaction in flight each (default 1)
	MaxRows  int            // most fixes in one transaction (default 256)
	MaxDelay time.Duration  // longest a collector keeps gathering arrivals before it commits (default 2ms)
	OnFlush  func(rows int) // optional: told each group's size as it commits, for metrics
}

// Committer gathers concurrent single-fix writes into shared transactions.
// A transaction that NOTIFYs takes a database-wide lock at commit, so one
// transaction per fix caps ingest near the commit rate; sharing the commit
// lifts that cap. Each shard (person id modulo Shards) keeps one
// transaction in flight, so a person's fixes commit in arrival order.
type Committer struct {
	store    *Store
	maxRows  int
	maxDelay time.Duration
	onFlush  func(rows int)
	shards   []chan *pendingFix

	mu     sync.RWMutex // guards closed against sends on closed channels
	closed bool
	wg     sync.WaitGroup
}

type pendingFix struct {
	up    Update
	reply chan fixAnswer // buffered: the shard never waits on a caller
}

type fixAnswer struct {
	res Result
	err error
}

// NewCommitter starts the shard collectors; Close stops them.
func (s *Store) NewCommitter(cfg CommitConfig) *Committer {
	c := &Committer{store: s, maxRows: cfg.MaxRows, maxDelay: cfg.MaxDelay, onFlush: cfg.OnFlush}
	if c.maxRows <= 0 {
		c.maxRows = 256
	}
	if c.maxDelay <= 0 {
		c.maxDelay = 2 * time.Millisecond
	}
	shards := max(cfg.Shards, 1)
	for range shards {
		ch := make(chan *pendingFix, 4*c.maxRows)
		c.shards = append(c.shards, ch)
		c.wg.Go(func() { c.collect(ch) })
	}
	return c
}

// Submit writes one fix in the next transaction of its shard and returns its
// own result once that transaction has committed. If ctx ends while the fix
// is queued, Submit returns early but the fix is still written.
func (c *Committer) Submit(ctx context.Context, up Update) (Result, error) {
	p := &pendingFix{up: up, reply: make(chan fixAnswer, 1)}
	shard := c.shards[uint64(up.PersonID)%uint64(len(c.shards))]
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return Result{}, ErrClosed
	}
	select {
	case shard <- p:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return Result{}, fmt.Errorf("store: submit fix: %w", ctx.Err())
	}
	select {
	case a := <-p.reply:
		return a.res, a.err
	case <-ctx.Done():
		return Result{}, fmt.Errorf("store: wait for commit: %w", ctx.Err())
	}
}

// Close stops taking fixes, commits everything already queued and waits.
func (c *Committer) Close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		for _, ch := range c.shards {
			close(ch)
		}
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// collect runs one shard: take the first waiting fix, add whoever else is
// already waiting (up to MaxRows, for at most MaxDelay), commit, answer.
// It flushes as soon as the queue is empty instead of sleeping on a timer:
// fixes that arrive during a commit form the next batch, so batches grow
// with load and an idle server adds no latency.
func (c *Committer) collect(ch chan *pendingFix) {
	batch := make([]*pendingFix, 0, c.maxRows)
	for first := range ch {
		batch = append(batch[:0], first)
		deadline := time.Now().Add(c.maxDelay)
	gather:
		for len(batch) < c.maxRows && time.Now().Before(deadline) {
			select {
			case p, ok := <-ch:
				if !ok {
					break gather
				}
				batch = append(batch, p)
			default:
				break gather
			}
		}
		c.flush(batch)
	}
}

// flush commits a batch. If the shared transaction fails as a whole, each
// fix is retried alone, so one bad fix never fails the others.
func (c *Committer) flush(batch []*pendingFix) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ups := make([]Update, len(batch))
	for i, p := range batch {
		ups[i] = p.up
	}
	results, err := c.store.update(ctx, ups, true)
	if err == nil {
		if c.onFlush != nil {
			c.onFlush(len(batch))
		}
		for i, p := range batch {
			p.reply <- fixAnswer{res: results[i]}
		}
		return
	}
	if len(batch) == 1 {
		batch[0].reply <- fixAnswer{err: err}
		return
	}
	for _, p := range batch {
		// Each retry has its own deadline: the batch may have failed by
		// running out of its own.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := c.store.update(ctx, []Update{p.up}, true)
		cancel()
		if err != nil {
			p.reply <- fixAnswer{err: err}
			continue
		}
		p.reply <- fixAnswer{res: res[0]}
	}
}
