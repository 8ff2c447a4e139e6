package store

import (
	"cmp"
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
	Feature   []byte // the person's Feature after this fix, when Moved (group commit and UpdateLocation only)
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

// moveRound stores one round of fixes (at most one a person, in person id
// order) and moves the live positions, in one statement. It locks each
// person first, in the order given, so that concurrent writers of the same
// people queue instead of deadlocking, and a person deleted meanwhile gets
// no history. The history insert skips fixes already stored (a client
// resending a batch) and unknown people; each new, unflagged fix then moves
// its person forward only (a fix older than the live one stays in history
// alone), which bumps version and fires the notify trigger. A device whose
// fix did not move it (older, flagged or resent) was still heard from: seen
// stamps it (a move did already, and the two touch different people, as
// one statement must). It answers one row per fix: known, stored, moved,
// and for a move what the Feature shows besides the fix (see appendFeature).
const moveRound = `WITH fix AS (
	SELECT u.*, k.id IS NOT NULL AS known
	FROM ` + unnestInput + `
	LEFT JOIN LATERAL (SELECT id FROM person WHERE id = u.person_id FOR NO KEY UPDATE) k ON true),
ins AS (
	INSERT INTO location_history
		(person_id, loc, recorded_at, accuracy_m, speed_mps, heading_deg, altitude_m, battery, flag)
	SELECT person_id, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, recorded_at,
		accuracy_m, speed_mps, heading_deg, altitude_m, battery, flag
	FROM fix
	WHERE known
	ON CONFLICT DO NOTHING
	RETURNING *),
mv AS (
	UPDATE person p SET loc = ins.loc,
		recorded_at = ins.recorded_at, updated_at = now(), seen_at = now(), version = p.version + 1,
		accuracy_m = ins.accuracy_m, speed_mps = ins.speed_mps, heading_deg = ins.heading_deg,
		altitude_m = ins.altitude_m, battery = ins.battery
	FROM ins
	WHERE p.id = ins.person_id AND ins.flag IS NULL
		AND (p.recorded_at IS NULL OR p.recorded_at <= ins.recorded_at)
	RETURNING p.id, p.version, p.name, p.device_id, p.updated_at, p.seen_at),
seen AS (
	UPDATE person p SET seen_at = now()
	FROM fix
	WHERE p.id = fix.person_id AND fix.known AND p.seen_at IS DISTINCT FROM now()
		AND NOT EXISTS (SELECT 1 FROM mv WHERE mv.id = fix.person_id))
SELECT fix.person_id, fix.known, ins.person_id IS NOT NULL, mv.id IS NOT NULL,
	mv.version, mv.name, mv.device_id, mv.updated_at, mv.seen_at
FROM fix LEFT JOIN ins ON ins.person_id = fix.person_id LEFT JOIN mv ON mv.id = fix.person_id`

// UpdateLocations applies a batch in one transaction: every new fix of a
// known person goes into history, and the live position moves forward in
// arrival order (two fixes of one person in a batch are two moves, two
// versions, two notifications). Unknown people are reported per item; the
// rest apply. Results carry no Feature; the group committer's do.
func (s *Store) UpdateLocations(ctx context.Context, ups []Update) ([]Result, error) {
	return s.update(ctx, ups, false)
}

// update runs the batch's transaction in one round trip, because on a busy
// 2-core machine a round trip (two context switches and a wake-up of the
// backend) costs as much as the SQL: BEGIN, one statement a round and
// COMMIT go out as one pipeline.
func (s *Store) update(ctx context.Context, ups []Update, withFeature bool) ([]Result, error) {
	results := make([]Result, len(ups))
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: update locations: %w", err)
	}
	defer conn.Release()
	if err := pipeline(ctx, conn.Conn(), ups, withFeature, results); err != nil {
		// A failed statement leaves the transaction open and aborted; if the
		// ROLLBACK fails too, the pool drops the connection on release.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		conn.Exec(rctx, "ROLLBACK")
		cancel()
		return nil, fmt.Errorf("store: update locations: %w", err)
	}
	return results, nil
}

func pipeline(ctx context.Context, conn *pgx.Conn, ups []Update, withFeature bool, results []Result) error {
	rounds, roundIdx := planRounds(ups)
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	for r := range rounds {
		b.Queue(moveRound, rounds[r].args()...)
	}
	b.Queue("COMMIT")
	br := conn.SendBatch(ctx, b)
	err := readPipeline(br, ups, roundIdx, withFeature, results)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// planRounds groups the fixes into rounds: round k holds the k-th fix of
// each person, so one set-based statement per round keeps each person's
// fixes in arrival order (two fixes of one person are two moves, and a
// second copy of a fix finds the first already stored). Each round is in
// person id order, the order moveRound locks in: every person is locked in
// round 1 (later rounds hold people already locked), so any two
// transactions lock their common people in the same order.
func planRounds(ups []Update) ([]columns, [][]int) {
	var roundIdx [][]int
	seen := make(map[int64]int, len(ups))
	for i, u := range ups {
		r := seen[u.PersonID]
		seen[u.PersonID]++
		if r == len(roundIdx) {
			roundIdx = append(roundIdx, nil)
		}
		roundIdx[r] = append(roundIdx[r], i)
	}
	rounds := make([]columns, len(roundIdx))
	for r, idx := range roundIdx {
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(ups[a].PersonID, ups[b].PersonID) })
		for _, i := range idx {
			rounds[r].add(ups[i])
		}
	}
	return rounds, roundIdx
}

// readPipeline reads the answers in the order they were queued.
func readPipeline(br pgx.BatchResults, ups []Update, roundIdx [][]int, withFeature bool, results []Result) error {
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	for _, idx := range roundIdx {
		if err := readRound(br, idx, ups, withFeature, results); err != nil {
			return err
		}
	}
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// readRound reads one round's answer: a row per fix, each person once.
func readRound(br pgx.BatchResults, idx []int, ups []Update, withFeature bool, results []Result) error {
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("store fixes: %w", err)
	}
	type outcome struct {
		known, stored, moved bool
		row                  movedRow
	}
	out := make(map[int64]outcome, len(idx))
	var o outcome
	var version *int64
	var name *string
	var updated, seen *time.Time
	scan := []any{&o.row.id, &o.known, &o.stored, &o.moved, &version, &name, &o.row.deviceID, &updated, &seen}
	_, err = pgx.ForEachRow(rows, scan, func() error {
		if o.moved {
			o.row.version, o.row.name, o.row.updatedAt, o.row.seenAt = *version, *name, *updated, *seen
		}
		out[o.row.id] = o
		return nil
	})
	if err != nil {
		return fmt.Errorf("store fixes: %w", err)
	}
	for _, i := range idx {
		p := ups[i].PersonID
		switch o := out[p]; {
		case !o.known:
			results[i].Err = fmt.Errorf("person %d: %w", p, ErrNotFound)
		case !o.stored:
			results[i].Duplicate = true
		case o.moved:
			results[i].Moved = true
			if withFeature {
				results[i].Feature = appendFeature(nil, o.row, ups[i])
			}
		}
	}
	return nil
}

// UpdateLocation applies one fix and returns the person's Feature after it
// (unchanged when the fix was older than the live position, flagged or a
// duplicate).
func (s *Store) UpdateLocation(ctx context.Context, u Update) ([]byte, error) {
	res, err := s.update(ctx, []Update{u}, true)
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
