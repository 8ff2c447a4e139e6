package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
)

// Snapshot returns the Feature of every person with a position that matches
// f, in id order.
func (s *Store) Snapshot(ctx context.Context, f geo.Filter) ([][]byte, error) {
	q := "SELECT person_feature(p)::text FROM person p WHERE loc IS NOT NULL"
	var args []any
	if len(f.IDs) > 0 {
		args = append(args, f.IDs)
		q += " AND id = ANY($1)"
	}
	if b := f.BBox; b != nil {
		hull, err := wkbOf(geocentricHull([]geo.BBox{*b}))
		if err != nil {
			return nil, fmt.Errorf("store: snapshot: %w", err)
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
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	features, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	return features, nil
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
// writers commit out of order.
func (s *Store) ChangesSince(ctx context.Context, cursor uint64) ([][]byte, uint64, error) {
	var features [][]byte
	var next uint64
	err := s.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var horizon string
		if err := tx.QueryRow(ctx, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text").Scan(&horizon); err != nil {
			return err
		}
		n, err := strconv.ParseUint(horizon, 10, 64)
		if err != nil {
			return err
		}
		next = n
		rows, err := tx.Query(ctx, changesSince, strconv.FormatUint(cursor, 10))
		if err != nil {
			return err
		}
		features, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: changes since %d: %w", cursor, err)
	}
	return features, next, nil
}
