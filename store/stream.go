package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
)

// Snapshot returns the Feature of every person with a position that matches
// f, in id order, and the cursor to resume from after it (see ChangesSince).
func (s *Store) Snapshot(ctx context.Context, f geo.Filter) ([][]byte, uint64, error) {
	q := "SELECT p.id, person_feature(p)::text AS feature FROM person p WHERE loc IS NOT NULL"
	var args []any
	if len(f.IDs) > 0 {
		args = append(args, f.IDs)
		q += " AND id = ANY($1)"
	}
	if b := f.BBox; b != nil {
		hull, err := wkbOf(geocentricHull([]geo.BBox{*b}))
		if err != nil {
			return nil, 0, fmt.Errorf("store: snapshot: %w", err)
		}
		n := len(args)
		args = append(args, b.MinLon, b.MinLat, b.MaxLon, b.MaxLat, hull)
		lonTest := "BETWEEN $%[1]d AND $%[3]d"
		if b.CrossesAntimeridian() {
			lonTest = ">= $%[1]d OR ST_X(loc::geometry) <= $%[3]d"
		}
		// The hull lets person_loc_idx pick the candidates (see geocentricHull).
		q += fmt.Sprintf(" AND loc && ST_GeomFromWKB($%[5]d, 4326)::geography"+
			" AND ST_Y(loc::geometry) BETWEEN $%[2]d AND $%[4]d AND (ST_X(loc::geometry) "+lonTest+")",
			n+1, n+2, n+3, n+4, n+5)
	}
	// One statement, so the horizon is that of the rows it reads.
	q = withHorizon + "SELECT h.xmin::text, f.feature FROM h LEFT JOIN LATERAL (" + q + ") f ON true ORDER BY f.id"
	var features [][]byte
	var horizon string
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: snapshot: %w", err)
	}
	var feature []byte
	_, err = pgx.ForEachRow(rows, []any{&horizon, &feature}, func() error {
		if feature != nil {
			features = append(features, feature)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: snapshot: %w", err)
	}
	cursor, err := strconv.ParseUint(horizon, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("store: snapshot: horizon %q: %w", horizon, err)
	}
	return features, cursor, nil
}

// withHorizon names where the statement's snapshot stands: every transaction
// below xmin had finished, none at or above xmax had started, and the
// tombstones at or below pruned are gone. In a single statement (read
// committed) it is the snapshot the rest of the statement reads with.
const withHorizon = `WITH h AS (
	SELECT pg_snapshot_xmin(s) AS xmin, pg_snapshot_xmax(s) AS xmax,
		(SELECT pruned_through FROM stream_horizon) AS pruned
	FROM pg_current_snapshot() s
) `

// changesSince reads the changes since $1 (a cursor) unless the cursor is
// not kept: at or below a pruned tombstone, or beyond xmax (another
// database, a restored backup). Cursor 0 reads whatever is kept.
const changesSince = withHorizon + `
SELECT h.xmin::text, ($1::text::xid8 = '0' OR ($1::text::xid8 > h.pruned AND $1::text::xid8 <= h.xmax)) AS kept,
	c.feature
FROM h LEFT JOIN LATERAL (
	SELECT person_feature(p)::text AS feature FROM person p
		WHERE change_xid >= $1::text::xid8 AND loc IS NOT NULL
	UNION ALL
	SELECT person_tombstone(id, version)::text FROM person_removed
		WHERE change_xid >= $1::text::xid8
) c ON $1::text::xid8 = '0' OR ($1::text::xid8 > h.pruned AND $1::text::xid8 <= h.xmax)`

// ChangesSince returns every person changed by a transaction at or after the
// cursor (tombstones for the deleted) and the next cursor. It reads in one
// statement, whose snapshot's xmin becomes that cursor: every transaction
// below it is committed and included, so nothing falls between two reads
// even when writers commit out of order. kept is false, and nothing is
// returned, when the database no longer holds every change since cursor:
// the reader needs a snapshot instead.
func (s *Store) ChangesSince(ctx context.Context, cursor uint64) (features [][]byte, next uint64, kept bool, err error) {
	rows, err := s.pool.Query(ctx, changesSince, strconv.FormatUint(cursor, 10))
	if err != nil {
		return nil, 0, false, fmt.Errorf("store: changes since %d: %w", cursor, err)
	}
	var horizon string
	var feature []byte
	_, err = pgx.ForEachRow(rows, []any{&horizon, &kept, &feature}, func() error {
		if feature != nil {
			features = append(features, feature)
		}
		return nil
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("store: changes since %d: %w", cursor, err)
	}
	if next, err = strconv.ParseUint(horizon, 10, 64); err != nil {
		return nil, 0, false, fmt.Errorf("store: changes since %d: horizon %q: %w", cursor, horizon, err)
	}
	return features, next, kept, nil
}
