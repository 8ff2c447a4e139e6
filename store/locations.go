package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
)

// Update is one validated position for one person.
type Update struct {
	PersonID int64
	Position geo.Position
}

// Result is what became of one Update. Moved is false when the fix was older
// than the live position: it is in the history but the marker stays.
type Result struct {
	Err     error  // ErrNotFound, or nil
	Moved   bool   // the live position moved to this fix
	Feature []byte // the person's Feature after this fix, when Moved
}

// columns holds a batch as parallel arrays for set-based SQL via unnest.
type columns struct {
	ids                     []int64
	lon, lat                []float64
	at                      []time.Time
	acc, spd, hdg, alt, bat []*float64
}

func (c *columns) add(u Update) {
	p := u.Position
	c.ids = append(c.ids, u.PersonID)
	c.lon, c.lat, c.at = append(c.lon, p.Lon), append(c.lat, p.Lat), append(c.at, p.RecordedAt)
	c.acc, c.spd = append(c.acc, p.AccuracyM), append(c.spd, p.SpeedMPS)
	c.hdg, c.alt, c.bat = append(c.hdg, p.HeadingDeg), append(c.alt, p.AltitudeM), append(c.bat, p.Battery)
}

func (c *columns) args() []any {
	return []any{c.ids, c.lon, c.lat, c.at, c.acc, c.spd, c.hdg, c.alt, c.bat}
}

const unnestInput = `unnest($1::bigint[], $2::float8[], $3::float8[], $4::timestamptz[],
	$5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[])
	AS u(person_id, lon, lat, recorded_at, accuracy_m, speed_mps, heading_deg, altitude_m, battery)`

const insertHistory = `INSERT INTO location_history
	(person_id, loc, recorded_at, accuracy_m, speed_mps, heading_deg, altitude_m, battery)
SELECT person_id, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, recorded_at,
	accuracy_m, speed_mps, heading_deg, altitude_m, battery
FROM ` + unnestInput

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

// UpdateLocations applies a batch in one transaction: every fix of a known
// person goes into history, and the live position moves forward in arrival
// order (two fixes of one person in a batch are two moves, two versions,
// two notifications). Unknown people are reported per item; the rest apply.
func (s *Store) UpdateLocations(ctx context.Context, ups []Update) ([]Result, error) {
	results := make([]Result, len(ups))
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		known, err := lockPeople(ctx, tx, ups)
		if err != nil {
			return err
		}
		var all columns
		var rounds []columns
		var roundIdx [][]int // rounds[r] item -> index in ups
		seen := map[int64]int{}
		for i, u := range ups {
			if !known[u.PersonID] {
				results[i].Err = fmt.Errorf("person %d: %w", u.PersonID, ErrNotFound)
				continue
			}
			all.add(u)
			r := seen[u.PersonID]
			seen[u.PersonID]++
			if r == len(rounds) {
				rounds, roundIdx = append(rounds, columns{}), append(roundIdx, nil)
			}
			rounds[r].add(u)
			roundIdx[r] = append(roundIdx[r], i)
		}
		if len(all.ids) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, insertHistory, all.args()...); err != nil {
			return fmt.Errorf("insert history: %w", err)
		}
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

// lockPeople locks the batch's people in id order, so concurrent batches
// touching the same people queue instead of deadlocking.
func lockPeople(ctx context.Context, tx pgx.Tx, ups []Update) (map[int64]bool, error) {
	ids := make([]int64, 0, len(ups))
	for _, u := range ups {
		ids = append(ids, u.PersonID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rows, err := tx.Query(ctx, "SELECT id FROM person WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE", ids)
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
// (unchanged when the fix was older than the live position).
func (s *Store) UpdateLocation(ctx context.Context, id int64, p geo.Position) ([]byte, error) {
	res, err := s.UpdateLocations(ctx, []Update{{PersonID: id, Position: p}})
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, fmt.Errorf("store: update location: %w", res[0].Err)
	}
	if res[0].Moved {
		return res[0].Feature, nil
	}
	return s.Person(ctx, id)
}
