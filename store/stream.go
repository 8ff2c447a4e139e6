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
	q := "SELECT person_feature(p)::text FROM person p WHERE loc IS NOT NULL"
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
	q += " ORDER BY id"
	var features [][]byte
	var h horizon
	err := s.inTx(ctx, readSnapshot, func(tx pgx.Tx) error {
		var err error
		if h, err = readHorizon(ctx, tx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		features, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: snapshot: %w", err)
	}
	return features, h.xmin, nil
}

// readSnapshot reads in one snapshot, whose horizon is then the cursor.
var readSnapshot = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// horizon is where a transaction's snapshot stands: every transaction below
// xmin is finished, none at or above xmax had started, and tombstones at or
// below prunedThrough are gone.
type horizon struct {
	xmin, xmax, prunedThrough uint64
}

func readHorizon(ctx context.Context, tx pgx.Tx) (horizon, error) {
	var xmin, xmax, pruned string
	err := tx.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text,
		pg_snapshot_xmax(pg_current_snapshot())::text,
		(SELECT pruned_through::text FROM stream_horizon)`).Scan(&xmin, &xmax, &pruned)
	if err != nil {
		return horizon{}, fmt.Errorf("read horizon: %w", err)
	}
	var h horizon
	for _, v := range []struct {
		dst *uint64
		s   string
	}{{&h.xmin, xmin}, {&h.xmax, xmax}, {&h.prunedThrough, pruned}} {
		if *v.dst, err = strconv.ParseUint(v.s, 10, 64); err != nil {
			return horizon{}, fmt.Errorf("read horizon: %w", err)
		}
	}
	return h, nil
}

// keeps reports whether every change since cursor can still be read: a
// cursor at or below the newest pruned tombstone would miss removals, and one
// beyond xmax comes from another database (a restored backup, another
// deployment). Cursor 0 reads whatever is kept.
func (h horizon) keeps(cursor uint64) bool {
	return cursor == 0 || (cursor > h.prunedThrough && cursor <= h.xmax)
}

const changesSince = `SELECT person_feature(p)::text FROM person p
	WHERE change_xid >= $1::text::xid8 AND loc IS NOT NULL
UNION ALL
SELECT person_tombstone(id, version)::text FROM person_removed
	WHERE change_xid >= $1::text::xid8`

// ChangesSince returns every person changed by a transaction at or after the
// cursor (tombstones for the deleted) and the next cursor. It reads in one
// snapshot whose xmin becomes that cursor: every transaction below it is
// committed and included, so nothing falls between two reads even when
// writers commit out of order. kept is false, and nothing is returned, when
// the database no longer holds every change since cursor (see horizon.keeps):
// the reader needs a snapshot instead.
func (s *Store) ChangesSince(ctx context.Context, cursor uint64) (features [][]byte, next uint64, kept bool, err error) {
	err = s.inTx(ctx, readSnapshot, func(tx pgx.Tx) error {
		h, err := readHorizon(ctx, tx)
		if err != nil {
			return err
		}
		next = h.xmin
		if kept = h.keeps(cursor); !kept {
			return nil
		}
		rows, err := tx.Query(ctx, changesSince, strconv.FormatUint(cursor, 10))
		if err != nil {
			return err
		}
		features, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
		return err
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("store: changes since %d: %w", cursor, err)
	}
	return features, next, kept, nil
}
