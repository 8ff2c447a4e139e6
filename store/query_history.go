package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// HistoryKey is where a fix sits in a person's history. (recorded_at, lon,
// lat) is unique per person (location_history_fix_key), so it orders every
// fix, equal times included, and a page can resume strictly after one.
type HistoryKey struct {
	RecordedAt time.Time
	Lon, Lat   float64
}

// HistoryQuery asks for one page of a person's fixes in time order.
type HistoryQuery struct {
	PersonID int64
	From, To time.Time   // recorded_at in [From, To); zero means unbounded
	After    *HistoryKey // resume after this fix; nil for the first page
	Limit    int         // fixes per page, at least 1
}

// HistoryFix is one stored fix, ready to send.
type HistoryFix struct {
	Key         HistoryKey
	Feature     []byte // GeoJSON Point Feature with the fix's times and readings
	Coordinates []byte // [lon, lat], as in Feature, for a LineString
}

// HistoryPage is up to Limit fixes and, when more follow, the key to resume
// after.
type HistoryPage struct {
	Fixes []HistoryFix
	Next  *HistoryKey
}

// historyTemplate reads the page with the unique index
// location_history_fix_key: person_id, then recorded_at and the row
// comparison on (recorded_at, ST_X, ST_Y) are all index conditions, and the
// index order is the page order. One row more than the limit says whether
// another page follows.
const historyTemplate = `SELECT json_build_object(
	'type', 'Feature',
	'geometry', json_build_object('type', 'Point', 'coordinates', json_build_array(h.x, h.y)),
	'properties', json_strip_nulls(json_build_object(
		'recorded_at', to_char(h.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		'received_at', to_char(h.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		'accuracy_m', h.accuracy_m,
		'speed_mps', h.speed_mps,
		'heading_deg', h.heading_deg,
		'altitude_m', h.altitude_m,
		'battery', h.battery,
		'flag', h.flag)))::text,
	json_build_array(h.x, h.y)::text, h.recorded_at, h.x, h.y
FROM (
	SELECT l.*, ST_X(l.loc::geometry) AS x, ST_Y(l.loc::geometry) AS y FROM location_history l
	WHERE %s
	ORDER BY l.recorded_at, ST_X(l.loc::geometry), ST_Y(l.loc::geometry)
	LIMIT $2) h
ORDER BY h.recorded_at, h.x, h.y`

func historySQL(q HistoryQuery) (string, []any) {
	args := []any{q.PersonID, q.Limit + 1}
	where := "l.person_id = $1"
	if !q.From.IsZero() {
		args = append(args, q.From)
		where += fmt.Sprintf(" AND l.recorded_at >= $%d", len(args))
	}
	if !q.To.IsZero() {
		args = append(args, q.To)
		where += fmt.Sprintf(" AND l.recorded_at < $%d", len(args))
	}
	if k := q.After; k != nil {
		args = append(args, k.RecordedAt, k.Lon, k.Lat)
		n := len(args)
		where += fmt.Sprintf(" AND (l.recorded_at, ST_X(l.loc::geometry), ST_Y(l.loc::geometry)) > ($%d, $%d::float8, $%d::float8)", n-2, n-1, n)
	}
	return fmt.Sprintf(historyTemplate, where), args
}

// History returns one page of a person's fixes, oldest first. A person with
// no fixes in range has an empty page; one that does not exist is
// ErrNotFound.
func (s *Store) History(ctx context.Context, q HistoryQuery) (HistoryPage, error) {
	sql, args := historySQL(q)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return HistoryPage{}, fmt.Errorf("store: history of %d: %w", q.PersonID, err)
	}
	var page HistoryPage
	var f HistoryFix
	_, err = pgx.ForEachRow(rows, []any{&f.Feature, &f.Coordinates, &f.Key.RecordedAt, &f.Key.Lon, &f.Key.Lat}, func() error {
		page.Fixes = append(page.Fixes, f) // pgx scans []byte into fresh copies
		return nil
	})
	if err != nil {
		return HistoryPage{}, fmt.Errorf("store: history of %d: %w", q.PersonID, err)
	}
	if len(page.Fixes) > q.Limit {
		page.Fixes = page.Fixes[:q.Limit]
		k := page.Fixes[q.Limit-1].Key
		page.Next = &k
	}
	if len(page.Fixes) == 0 {
		return page, s.exists(ctx, q.PersonID)
	}
	return page, nil
}

// exists tells an empty history from an unknown person, only when the page
// is empty: the common case costs one query.
func (s *Store) exists(ctx context.Context, id int64) error {
	var one int
	err := s.pool.QueryRow(ctx, "SELECT 1 FROM person WHERE id = $1", id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("store: history of %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: history of %d: %w", id, err)
	}
	return nil
}
