package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
)

// InvalidGeometryError means PostGIS finds the area's topology invalid (a
// ring that crosses itself, overlapping parts): a well-formed body the
// server cannot answer for. Reason is ST_IsValidReason's.
type InvalidGeometryError struct {
	Reason string
}

func (e *InvalidGeometryError) Error() string { return "invalid geometry: " + e.Reason }

const areaValidity = `SELECT ST_IsValid(g), ST_IsValidReason(g) FROM (SELECT ST_GeomFromWKB($1, 4326) AS g) a`

// withinSQL tests people with ST_Covers on geometry, so edges are straight in
// lon/lat (RFC 7946) and the boundary counts as inside. The area is built
// once (MATERIALIZED), not once per row, and the hull prefilter lets the
// geography GiST index (person_loc_idx) pick the candidates.
const withinSQL = `WITH area AS MATERIALIZED (
	SELECT ST_GeomFromWKB($1, 4326) AS g, ST_GeomFromWKB($2, 4326)::geography AS hull)
SELECT person_feature(p)::text FROM person p
WHERE p.loc IS NOT NULL
	AND ($3::bigint[] IS NULL OR p.id = ANY($3))
	AND p.loc && (SELECT hull FROM area)
	AND ST_Covers((SELECT g FROM area), p.loc::geometry)
ORDER BY p.id`

// Within returns the Feature of every person whose live position lies in the
// area, edges included, in id order. ids, when not empty, limits the answer
// to those people. An area PostGIS finds invalid is an *InvalidGeometryError.
func (s *Store) Within(ctx context.Context, area geo.Area, ids []int64) ([][]byte, error) {
	args, err := withinArgs(area, ids)
	if err != nil {
		return nil, fmt.Errorf("store: within: %w", err)
	}
	var valid bool
	var reason string
	if err := s.pool.QueryRow(ctx, areaValidity, args[0]).Scan(&valid, &reason); err != nil {
		return nil, fmt.Errorf("store: within: validate: %w", err)
	}
	if !valid {
		return nil, fmt.Errorf("store: within: %w", &InvalidGeometryError{Reason: reason})
	}
	rows, err := s.pool.Query(ctx, withinSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("store: within: %w", err)
	}
	features, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("store: within: %w", err)
	}
	return features, nil
}

// withinArgs encodes the area and its hull as WKB, and ids as an array (NULL
// for everyone).
func withinArgs(area geo.Area, ids []int64) ([]any, error) {
	shape, err := wkbOf(area.MultiPolygon())
	if err != nil {
		return nil, err
	}
	hull, err := wkbOf(geocentricHull(area.Bounds()))
	if err != nil {
		return nil, err
	}
	var only []int64 // nil: NULL, everyone
	if len(ids) > 0 {
		only = ids
	}
	return []any{shape, hull, only}, nil
}
