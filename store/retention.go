package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"whereabouts/geo"
)

// Retention prunes location history, and the tombstones of deleted people,
// older than Keep.
//
// It deletes in bounded batches, each its own short transaction, rather than
// partitioning location_history by time and dropping old partitions.
// Partitions make pruning a metadata operation, which only pays off for
// fleets whose history runs to hundreds of millions of rows; they cost a
// rebuilt table (unique and foreign keys on a partitioned table), the app
// creating partitions ahead of time, a DEFAULT partition that blocks new
// ones once a stray fix lands in it, and per-person reads that visit every
// partition unless they bound recorded_at. A batch of a few thousand rows found through the
// recorded_at index (migration 000005) locks only those rows for a few
// milliseconds: readers and writers of new fixes never wait on it (only a
// resent copy of a fix being deleted, or deleting its person, waits for that
// one batch). The live position lives in person, which this never
// touches, so a person whose last fix is older than Keep stays on the map.
type Retention struct {
	Store *Store
	Keep  time.Duration // history recorded before now-Keep goes; 0 keeps it forever
	Batch int           // rows per delete; 0 means 5000
	Every time.Duration // between prunes; 0 means an hour
	Log   *slog.Logger  // nil discards
}

// DefaultPruneBatch is PruneHistory's batch when none is given: a delete of
// this size takes milliseconds, so it never holds a lock for long.
const DefaultPruneBatch = 5000

// MinRetention is the shortest retention ParseRetention accepts, so that a
// "6m" meant as six months does not wipe the history as six minutes.
const MinRetention = time.Hour

// ParseRetention reads WHEREABOUTS_HISTORY_RETENTION: a duration such as
// "30d", "2w", "12h" or "720h" (see geo.ParseDuration), or "" or "0" to keep
// history forever (returned as 0). Negative and sub-hour values are refused.
func ParseRetention(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	d, err := geo.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("history retention: %w, or 0 to keep history forever", err)
	case d < 0:
		return 0, fmt.Errorf("history retention %q is negative: give how long to keep history, e.g. 30d, or 0 for forever", s)
	case d > 0 && d < MinRetention:
		return 0, fmt.Errorf("history retention %q is under an hour (m is minutes; there is no month unit): write e.g. 180d", s)
	}
	return d, nil
}

// pruneBatch deletes up to $2 of the oldest rows recorded before $1. The
// ctids are picked in one index range scan and deleted by TID, so the
// statement never scans beyond the rows it removes.
const pruneBatch = `DELETE FROM location_history WHERE ctid = ANY(ARRAY(
	SELECT ctid FROM location_history WHERE recorded_at < $1
	ORDER BY recorded_at LIMIT $2))`

// PruneHistory deletes history recorded before cutoff, batch rows per
// transaction (DefaultPruneBatch when batch < 1), until none is left or ctx
// ends. It returns how many rows went, including when it fails part way:
// each batch that committed stays deleted.
func (s *Store) PruneHistory(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	if batch < 1 {
		batch = DefaultPruneBatch
	}
	var total int64
	for {
		// No explicit transaction: each statement commits on its own.
		tag, err := s.pool.Exec(ctx, pruneBatch, cutoff, batch)
		if err != nil {
			return total, fmt.Errorf("store: prune history before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		n := tag.RowsAffected()
		total += n
		if n == 0 {
			return total, nil
		}
	}
}

// pruneTombstones deletes the tombstones of people removed before $1 and
// moves stream_horizon past them, so that cursors from before then are told
// to take a snapshot instead of resuming without those removals.
const pruneTombstones = `WITH gone AS (
	DELETE FROM person_removed WHERE removed_at < $1 RETURNING change_xid
), moved AS (
	UPDATE stream_horizon SET pruned_through = greatest(pruned_through, newest.change_xid)
	FROM (SELECT change_xid FROM gone ORDER BY change_xid DESC LIMIT 1) newest
	RETURNING 1
)
SELECT count(*) FROM gone`

// PruneTombstones forgets people deleted before cutoff. Stream clients whose
// cursor predates the newest forgotten removal resume with a snapshot.
func (s *Store) PruneTombstones(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, pruneTombstones, cutoff).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: prune tombstones before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return n, nil
}

// Run prunes now and then every Every until ctx ends, and returns nil then.
// A failed prune is logged and retried at the next tick, never fatal. With
// Keep 0 (keep forever) it returns at once.
func (r *Retention) Run(ctx context.Context) error {
	if r.Keep <= 0 {
		return nil
	}
	every := r.Every
	if every <= 0 {
		every = time.Hour
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		r.pruneOnce(ctx, log)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (r *Retention) pruneOnce(ctx context.Context, log *slog.Logger) {
	start := time.Now()
	cutoff := start.Add(-r.Keep)
	n, err := r.Store.PruneHistory(ctx, cutoff, r.Batch)
	if err == nil {
		// Removals are kept as long as history: a stream client may resume
		// from any cursor of that period.
		var gone int64
		gone, err = r.Store.PruneTombstones(ctx, cutoff)
		n += gone
	}
	attrs := []any{"rows", n, "recorded_before", cutoff.UTC().Format(time.RFC3339), "took", time.Since(start).Round(time.Millisecond)}
	switch {
	case err != nil && ctx.Err() != nil: // shutting down
		log.Info("history retention stopped", attrs...)
	case err != nil:
		log.Error("history retention", append(attrs, "err", err)...)
	case n > 0:
		log.Info("pruned location history", attrs...)
	default:
		log.Debug("pruned location history", attrs...)
	}
}
