package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
)

// Update is one validated position for one person. A flagged fix (see
// geo.Policy) is kept in history but never moves the live position.
type Update struct {
	PersonID int64
	Position geo.Position
	Flag     string
}

// Result is what became of one Update. Moved is false when the fix was older
// than the live position or flagged: it is in the history but the marker
// stays. Duplicate means the same fix (person, time, place) was already
// stored, so nothing changed.
type Result struct {
	Err       error  // ErrNotFound, or nil
	Moved     bool   // the live position moved to this fix
	Duplicate bool   // already in history: a resent fix
	Feature   []byte // the person's Feature after this fix, when Moved
}

// fixKey identifies a fix for deduplication, at the database's microsecond
// precision.
type fixKey struct {
	person   int64
	micros   int64
	lon, lat float64
}

func keyOf(u Update) fixKey {
	return fixKey{u.PersonID, u.Position.RecordedAt.UnixMicro(), u.Position.Lon, u.Position.Lat}
}

// columns holds a batch as parallel arrays for set-based SQL via unnest.
type columns struct {
	ids                     []int64
	lon, lat                []float64
	at                      []time.Time
	acc, spd, hdg, alt, bat []*float64
	flag                    []*string
}

func (c *columns) add(u Update) {
	p := u.Position
	c.ids = append(c.ids, u.PersonID)
	c.lon, c.lat = append(c.lon, p.Lon), append(c.lat, p.Lat)
	c.at = append(c.at, time.UnixMicro(p.RecordedAt.UnixMicro()))
	var flag *string
	if u.Flag != "" {
		flag = &u.Flag
	}
	c.flag = append(c.flag, flag)
	c.acc, c.spd = append(c.acc, p.AccuracyM), append(c.spd, p.SpeedMPS)
	c.hdg, c.alt, c.bat = append(c.hdg, p.HeadingDeg), append(c.alt, p.AltitudeM), append(c.bat, p.Battery)
}

func (c *columns) args() []any {
	return []any{c.ids, c.lon, c.lat, c.at, c.acc, c.spd, c.hdg, c.alt, c.bat, c.flag}
}

const unnestInput = `unnest($1::bigint[], $2::float8[], $3::float8[], $4::timestamptz[],
	$5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::text[])
	AS u(person_id, lon, lat, recorded_at, accuracy_m, speed_mps, heading_deg, altitude_m, battery, flag)`

// insertHistory skips fixes already stored (a client resending a batch) and
// returns the keys of those it inserted.
const insertHistory = `INSERT INTO location_history
	(person_id, loc, recorded_at, accuracy_m, speed_mps, heading_deg, altitude_m, battery, flag)
SELECT person_id, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, recorded_at,
	accuracy_m, speed_mps, heading_deg, altitude_m, battery, flag
FROM ` + unnestInput + `
ON CONFLICT DO NOTHING
RETURNING person_id, recorded_at, ST_X(loc::geometry), ST_Y(loc::geometry)`

// moveLive moves each person forward only: a fix older than the live one
// stays in history alone. Each row's change bumps version and fires the
// notify trigger.
const moveLive = `UPDATE person p SET
	loc = ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326)::geography,
	recorded_at = u.recorded_at, updated_at = now(), version = p.version + 1,
	accuracy_m = u.accuracy_m, speed_mps = u.speed_mps, heading_deg = u.heading_deg,
	altitude_m = u.altitude_m, battery = u.battery
FROM ` + unnestInput + `
WHERE p.id = u.person_id AND (p.recorded_at IS NULL OR p.recorded_at <= u.recorded_at)
RETURNING p.id, person_feature(p)::text`

// UpdateLocations applies a batch in one transaction: every new fix of a
// known person goes into history, and the live position moves forward in
// arrival order (two fixes of one person in a batch are two moves, two
// versions, two notifications). Unknown people are reported per item; the
// rest apply.
func (s *Store) UpdateLocations(ctx context.Context, ups []Update) ([]Result, error) {
	results := make([]Result, len(ups))
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		known, err := markSeen(ctx, tx, ups)
		if err != nil {
			return err
		}
		var all columns
		for i, u := range ups {
			if !known[u.PersonID] {
				results[i].Err = fmt.Errorf("person %d: %w", u.PersonID, ErrNotFound)
				continue
			}
			all.add(u)
		}
		if len(all.ids) == 0 {
			return nil
		}
		inserted, err := insertNew(ctx, tx, all)
		if err != nil {
			return err
		}
		rounds, roundIdx := planRounds(ups, results, inserted)
		for r := range rounds {
			if err := applyRound(ctx, tx, rounds[r], roundIdx[r], ups, results); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: update locations: %w", err)
	}
	return results, nil
}

// insertNew stores the fixes in history and returns the keys it inserted;
// the others were already there.
func insertNew(ctx context.Context, tx pgx.Tx, all columns) (map[fixKey]bool, error) {
	rows, err := tx.Query(ctx, insertHistory, all.args()...)
	if err != nil {
		return nil, fmt.Errorf("insert history: %w", err)
	}
	inserted := map[fixKey]bool{}
	var k fixKey
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&k.person, &at, &k.lon, &k.lat}, func() error {
		k.micros = at.UnixMicro()
		inserted[k] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insert history: %w", err)
	}
	return inserted, nil
}

// planRounds groups the fixes that may move a marker (new, unflagged) into
// rounds: round k holds the k-th such fix of each person, so one set-based
// statement per round keeps each person's fixes in arrival order.
func planRounds(ups []Update, results []Result, inserted map[fixKey]bool) ([]columns, [][]int) {
	var rounds []columns
	var roundIdx [][]int
	seen := map[int64]int{}
	for i, u := range ups {
		if results[i].Err != nil {
			continue
		}
		k := keyOf(u)
		if !inserted[k] {
			results[i].Duplicate = true
			continue
		}
		delete(inserted, k) // a second copy in the same batch is a duplicate too
		if u.Flag != "" {
			continue
		}
		r := seen[u.PersonID]
		seen[u.PersonID]++
		if r == len(rounds) {
			rounds, roundIdx = append(rounds, columns{}), append(roundIdx, nil)
		}
		rounds[r].add(u)
		roundIdx[r] = append(roundIdx[r], i)
	}
	return rounds, roundIdx
}

// markSeen locks the batch's people in id order, so concurrent batches
// touching the same people queue instead of deadlocking, and records that
// their devices were heard from. It returns the ids that exist.
func markSeen(ctx context.Context, tx pgx.Tx, ups []Update) (map[int64]bool, error) {
	ids := make([]int64, 0, len(ups))
	for _, u := range ups {
		ids = append(ids, u.PersonID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rows, err := tx.Query(ctx, `WITH locked AS (
		SELECT id FROM person WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE)
	UPDATE person p SET seen_at = now() FROM locked WHERE p.id = locked.id RETURNING p.id`, ids)
	if err != nil {
		return nil, fmt.Errorf("lock people: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("lock people: %w", err)
	}
	known := make(map[int64]bool, len(found))
	for _, id := range found {
		known[id] = true
	}
	return known, nil
}

// applyRound moves each person of one round (at most one fix per person).
func applyRound(ctx context.Context, tx pgx.Tx, c columns, idx []int, ups []Update, results []Result) error {
	rows, err := tx.Query(ctx, moveLive, c.args()...)
	if err != nil {
		return fmt.Errorf("move live position: %w", err)
	}
	moved := map[int64][]byte{}
	var id int64
	var feature []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &feature}, func() error {
		moved[id] = slices.Clone(feature)
		return nil
	})
	if err != nil {
		return fmt.Errorf("move live position: %w", err)
	}
	for _, i := range idx {
		if f, ok := moved[ups[i].PersonID]; ok {
			results[i].Moved, results[i].Feature = true, f
		}
	}
	return nil
}

// UpdateLocation applies one fix and returns the person's Feature after it
// (unchanged when the fix was older than the live position, flagged or a
// duplicate).
func (s *Store) UpdateLocation(ctx context.Context, u Update) ([]byte, error) {
	res, err := s.UpdateLocations(ctx, []Update{u})
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, fmt.Errorf("store: update location: %w", res[0].Err)
	}
	if res[0].Moved {
		return res[0].Feature, nil
	}
	return s.Person(ctx, u.PersonID)
}
