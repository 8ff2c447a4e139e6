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
	Feature   []byte // the person's Feature after this fix, when Moved (group commit and UpdateLocation only)
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
WHERE EXISTS (SELECT 1 FROM person p WHERE p.id = u.person_id)
ON CONFLICT DO NOTHING
RETURNING person_id, recorded_at, ST_X(loc::geometry), ST_Y(loc::geometry)`

// moveLive moves each person forward only: a fix older than the live one
// stays in history alone. Each row's change bumps version and fires the
// notify trigger.
const moveLive = `UPDATE person p SET
	loc = ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326)::geography,
	recorded_at = u.recorded_at, updated_at = now(), seen_at = now(), version = p.version + 1,
	accuracy_m = u.accuracy_m, speed_mps = u.speed_mps, heading_deg = u.heading_deg,
	altitude_m = u.altitude_m, battery = u.battery
FROM ` + unnestInput + `
WHERE p.id = u.person_id AND (p.recorded_at IS NULL OR p.recorded_at <= u.recorded_at)
RETURNING p.id, `

// What a move returns: the Feature costs a JSON build per row, so only
// callers that answer with it (a single PUT) ask for it.
const (
	returnFeature = moveLive + "person_feature(p)::text"
	returnNothing = moveLive + "NULL::text"
)

// UpdateLocations applies a batch in one transaction: every new fix of a
// known person goes into history, and the live position moves forward in
// arrival order (two fixes of one person in a batch are two moves, two
// versions, two notifications). Unknown people are reported per item; the
// rest apply. Results carry no Feature; the group committer's do.
func (s *Store) UpdateLocations(ctx context.Context, ups []Update) ([]Result, error) {
	return s.update(ctx, ups, returnNothing)
}

// update runs the batch's transaction in two round trips, because on a
// busy 2-core machine a round trip (two context switches and a wake-up of
// the backend) costs as much as the SQL: first BEGIN, the row locks and the
// history insert; then the moves, the last-seen stamp and COMMIT.
func (s *Store) update(ctx context.Context, ups []Update, move string) ([]Result, error) {
	results := make([]Result, len(ups))
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: update locations: %w", err)
	}
	defer conn.Release()
	if err := pipeline(ctx, conn.Conn(), ups, move, results); err != nil {
		// A failed statement leaves the transaction open and aborted; if the
		// ROLLBACK fails too, the pool drops the connection on release.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		conn.Exec(rctx, "ROLLBACK")
		cancel()
		return nil, fmt.Errorf("store: update locations: %w", err)
	}
	return results, nil
}

func pipeline(ctx context.Context, conn *pgx.Conn, ups []Update, move string, results []Result) error {
	var all columns
	for _, u := range ups {
		all.add(u)
	}
	ids := slices.Clone(all.ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	first := &pgx.Batch{}
	first.Queue("BEGIN")
	first.Queue(lockPeople, ids)
	first.Queue(insertHistory, all.args()...)
	br := conn.SendBatch(ctx, first)
	known, inserted, err := readFirst(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for i, u := range ups {
		if !known[u.PersonID] {
			results[i].Err = fmt.Errorf("person %d: %w", u.PersonID, ErrNotFound)
		}
	}
	rounds, roundIdx := planRounds(ups, results, inserted)
	second := &pgx.Batch{}
	for r := range rounds {
		second.Queue(move, rounds[r].args()...)
	}
	second.Queue(markSeen, ids)
	second.Queue("COMMIT")
	br = conn.SendBatch(ctx, second)
	for r := range rounds {
		if err = applyRound(br, roundIdx[r], ups, results); err != nil {
			break
		}
	}
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// readFirst reads the answers to BEGIN, lockPeople and insertHistory: the
// people that exist, and the keys of the fixes that were new.
func readFirst(br pgx.BatchResults) (map[int64]bool, map[fixKey]bool, error) {
	if _, err := br.Exec(); err != nil {
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, nil, fmt.Errorf("lock people: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, nil, fmt.Errorf("lock people: %w", err)
	}
	known := make(map[int64]bool, len(found))
	for _, id := range found {
		known[id] = true
	}
	rows, err = br.Query()
	if err != nil {
		return nil, nil, fmt.Errorf("insert history: %w", err)
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
		return nil, nil, fmt.Errorf("insert history: %w", err)
	}
	return known, inserted, nil
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

// lockPeople locks the batch's people in id order, so concurrent batches
// touching the same people queue instead of deadlocking; it returns those
// that exist.
const lockPeople = "SELECT id FROM person WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE"

// markSeen records that the devices whose fixes did not move their marker
// (older, flagged or resent) were heard from; a move already set seen_at to
// now(), the transaction's time, so those rows are left alone.
const markSeen = "UPDATE person SET seen_at = now() WHERE id = ANY($1) AND seen_at IS DISTINCT FROM now()"

// applyRound reads the moves of one round (at most one fix per person).
func applyRound(br pgx.BatchResults, idx []int, ups []Update, results []Result) error {
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("move live position: %w", err)
	}
	moved := map[int64][]byte{}
	var id int64
	var feature []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &feature}, func() error {
		moved[id] = slices.Clone(feature) // nil when not asked for
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
	res, err := s.update(ctx, []Update{u}, returnFeature)
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
