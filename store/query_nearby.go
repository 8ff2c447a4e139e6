package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"whereabouts/geo"
)

// NearbyQuery asks for the people closest to a point.
type NearbyQuery struct {
	Center    geo.Point
	Limit     int       // how many, at least 1
	RadiusM   float64   // only people this close (geodesic metres); 0 means any distance
	SeenSince time.Time // only people whose live fix is this recent; zero means any age
	IDs       []int64   // only these people; empty means everyone
}

// centre is the query point as geography; immutable, so folded once per
// execution.
const centre = "ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography"

// nearbyTemplate finds the k nearest in two index-backed steps, because the
// index orders geography by sphere distance (<->) while distance_m is the
// spheroid distance, and the two differ by up to 0.56% (spheroid/sphere
// between 0.9944 and 1.0045 on WGS 84). Step one takes k people by a KNN
// scan of person_loc_idx and D, the largest spheroid distance among them:
// at least k people lie within D, so the true k nearest do too, and each of
// those is within D/0.9944 on the sphere. Step two gathers everyone within
// D·1.01 + 1 m on the sphere (ST_DWithin, the same index) and sorts them by
// spheroid distance, then id, so the order is exactly that of the distances
// returned. The argument holds for any k people, so step one's order only
// has to be good, not exact. %[1]s is the filter, shared by both steps;
// %[2]s is step one's order.
const nearbyTemplate = `WITH knn AS (
	SELECT ST_Distance(p.loc, ` + centre + `) AS d FROM person p
	WHERE %[1]s ORDER BY %[2]s LIMIT $3)
SELECT person_feature(n.p)::text, round(n.d::numeric, 2)::float8 FROM (
	SELECT p, ST_Distance(p.loc, ` + centre + `) AS d FROM person p
	WHERE %[1]s AND ST_DWithin(p.loc, ` + centre + `, (SELECT max(d) FROM knn) * 1.01 + 1, false)
	ORDER BY d, p.id LIMIT $3) n
ORDER BY n.d, (n.p).id`

// Step one's order: by the index (KNN), or, when PostGIS aborts that scan,
// by the same sphere distance computed row by row.
const (
	orderByIndex = "p.loc <-> " + centre
	orderByScan  = "ST_Distance(p.loc, " + centre + ", false)"
)

// nearbySQL builds the statement and its arguments: only the filters asked
// for appear, so each combination gets a plan of its own. order is
// orderByIndex or orderByScan.
func nearbySQL(q NearbyQuery, order string) (string, []any) {
	args := []any{q.Center.Lon, q.Center.Lat, q.Limit}
	where := "p.loc IS NOT NULL"
	if len(q.IDs) > 0 {
		args = append(args, q.IDs)
		where += fmt.Sprintf(" AND p.id = ANY($%d)", len(args))
	}
	if !q.SeenSince.IsZero() {
		args = append(args, q.SeenSince)
		where += fmt.Sprintf(" AND p.recorded_at >= $%d", len(args))
	}
	if q.RadiusM > 0 {
		args = append(args, q.RadiusM)
		where += fmt.Sprintf(" AND ST_DWithin(p.loc, %s, $%d)", centre, len(args))
	}
	return fmt.Sprintf(nearbyTemplate, where, order), args
}

// Nearby returns the Features of the people nearest to q.Center, nearest
// first (ties by id), each with properties.distance_m: the geodesic distance
// on the WGS 84 spheroid, rounded to the centimetre.
func (s *Store) Nearby(ctx context.Context, q NearbyQuery) ([][]byte, error) {
	features, err := s.nearby(ctx, q, orderByIndex)
	if isKNNAbort(err) {
		features, err = s.nearby(ctx, q, orderByScan)
	}
	if err != nil {
		return nil, fmt.Errorf("store: nearby: %w", err)
	}
	return features, nil
}

// isKNNAbort reports PostgreSQL refusing a KNN scan whose index distance
// overshot the exact one ("index returned tuples in wrong order"). PostGIS
// computes the index's geocentric boxes and the sphere distance in different
// ways; they disagree by ~1e-16, which float32 box rounding usually hides,
// except where a coordinate is near zero: people at or near lon ±180 or a
// pole, within metres of the query point. Rare, so the retry without the
// index order costs nothing the rest of the time.
func isKNNAbort(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "XX000" && strings.Contains(pgErr.Message, "wrong order")
}

func (s *Store) nearby(ctx context.Context, q NearbyQuery, order string) ([][]byte, error) {
	sql, args := nearbySQL(q, order)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var features [][]byte
	for rows.Next() {
		var f []byte
		var d float64
		if err := rows.Scan(&f, &d); err != nil {
			return nil, err
		}
		f, err = withProperty(f, "distance_m", strconv.FormatFloat(d, 'f', -1, 64))
		if err != nil {
			return nil, err
		}
		features = append(features, f)
	}
	return features, rows.Err()
}

// withProperty appends one member to the properties of a person Feature
// without re-encoding it, so the rest stays byte for byte what every other
// route sends. person_feature puts properties last and never leaves them
// empty (name and version are always there), so the text ends in "}}".
func withProperty(feature []byte, name, jsonValue string) ([]byte, error) {
	body, ok := bytes.CutSuffix(bytes.TrimRight(feature, " \n"), []byte("}}"))
	if !ok || bytes.HasSuffix(bytes.TrimRight(body, " "), []byte("{")) {
		return nil, errors.New("person feature does not end with its properties")
	}
	out := make([]byte, 0, len(body)+len(name)+len(jsonValue)+8)
	out = append(out, body...)
	out = append(out, `,"`...)
	out = append(out, name...)
	out = append(out, `":`...)
	out = append(out, jsonValue...)
	return append(out, "}}"...), nil
}
