package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
	"whereabouts/pgcluster/pgtest"
	"whereabouts/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T) (*store.Store, string) {
	t.Helper()
	dsn := pgtest.NewDB(t)
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, dsn
}

func person(t *testing.T, s *store.Store, name string) int64 {
	t.Helper()
	p, err := s.CreatePerson(context.Background(), name, "")
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func pos(lon, lat float64, at time.Time) geo.Position {
	return geo.Position{Point: geo.Point{Lon: lon, Lat: lat}, RecordedAt: at}
}

type feature struct {
	ID       int64 `json:"id"`
	Geometry *struct {
		Coordinates []float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

func decode(t *testing.T, b []byte) feature {
	t.Helper()
	var f feature
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return f
}

func TestTriggerPayloadIsTheFeatureTheAPIReturns(t *testing.T) {
	ctx := context.Background()
	s, dsn := open(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN person_updated"); err != nil {
		t.Fatal(err)
	}
	id := person(t, s, "Ada")
	acc := 4.5
	p := pos(-122.41, 37.77, time.Date(2026, 1, 2, 3, 4, 5, 678000000, time.UTC))
	p.AccuracyM = &acc
	got, err := s.UpdateLocation(ctx, store.Update{PersonID: id, Position: p})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := conn.WaitForNotification(wctx)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.Person(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if n.Payload != string(stored) || string(got) != string(stored) {
		t.Fatalf("payload %s\nGET     %s\nPUT     %s", n.Payload, stored, got)
	}
	ev, err := geo.DecodePersonFeature([]byte(n.Payload))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != id || ev.Version != 1 || ev.Point != p.Point || !ev.RecordedAt.Equal(p.RecordedAt) {
		t.Fatalf("decoded %+v", ev)
	}
	f := decode(t, stored)
	if f.Properties["name"] != "Ada" || f.Properties["accuracy_m"] != 4.5 || f.Properties["recorded_at"] != "2026-01-02T03:04:05.678000Z" {
		t.Fatalf("properties %v", f.Properties)
	}
}

func TestOlderFixGoesToHistoryButDoesNotMoveThePerson(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	id := person(t, s, "Bob")
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	if _, err := s.UpdateLocation(ctx, store.Update{PersonID: id, Position: pos(1, 1, t0.Add(30*time.Second))}); err != nil {
		t.Fatal(err)
	}
	f, err := s.UpdateLocation(ctx, store.Update{PersonID: id, Position: pos(2, 2, t0)})
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, f)
	if got.Geometry.Coordinates[0] != 1 || got.Properties["version"] != 1.0 {
		t.Fatalf("older fix moved the person: %s", f)
	}
	// The device was heard from: last seen moves past the move's time.
	if seen, moved := got.Properties["last_seen_at"].(string), got.Properties["updated_at"].(string); seen <= moved {
		t.Fatalf("last_seen_at %s, want after updated_at %s", seen, moved)
	}
}

func TestBatchAppliesKnownPeopleInOrderAndReportsUnknown(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	a, b := person(t, s, "A"), person(t, s, "B")
	t0 := time.Now().UTC().Add(-time.Minute)
	res, err := s.UpdateLocations(ctx, []store.Update{
		{PersonID: a, Position: pos(1, 1, t0)},
		{PersonID: 999999, Position: pos(1, 1, t0)},
		{PersonID: a, Position: pos(2, 2, t0.Add(time.Second))},
		{PersonID: b, Position: pos(3, 3, t0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res[1].Err, store.ErrNotFound) {
		t.Fatalf("unknown person: %v", res[1].Err)
	}
	for _, i := range []int{0, 2, 3} {
		if res[i].Err != nil || !res[i].Moved {
			t.Fatalf("item %d: %+v", i, res[i])
		}
	}
	if v := decode(t, mustPerson(t, s, a)).Properties["version"]; v != 2.0 {
		t.Fatalf("two fixes of A in one batch: version %v, want 2", v)
	}
}

func TestChangesSinceSeesTransactionsThatCommitOutOfOrder(t *testing.T) {
	ctx := context.Background()
	s, dsn := open(t)
	a, b := person(t, s, "A"), person(t, s, "B")
	_, cur, _, err := s.ChangesSince(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A transaction that started first (lower xid) but commits last must
	// still be seen by a reader that resumes from the cursor it was given.
	slow, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close(ctx)
	tx, err := slow.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE person SET loc = 'POINT(5 5)', version = version + 1 WHERE id = $1", a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateLocation(ctx, store.Update{PersonID: b, Position: pos(6, 6, time.Now())}); err != nil {
		t.Fatal(err)
	}
	first, cur2, _, err := s.ChangesSince(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || decode(t, first[0]).ID != b {
		t.Fatalf("first read: %s", first)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	second, _, _, err := s.ChangesSince(ctx, cur2)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for _, f := range second {
		ids[decode(t, f).ID] = true
	}
	if !ids[a] {
		t.Fatalf("late commit of A missed after cursor %d: %s", cur2, second)
	}
	if err := s.DeletePerson(ctx, a); err != nil {
		t.Fatal(err)
	}
	third, _, _, err := s.ChangesSince(ctx, cur2)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := geo.DecodePersonFeature(third[len(third)-1])
	if err != nil || !ev.Deleted || ev.ID != a {
		t.Fatalf("tombstone: %+v %v (%s)", ev, err, third)
	}
}

func TestCursorsExpireOncePrunedTombstonesPassThem(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	a, b := person(t, s, "A"), person(t, s, "B")
	for _, id := range []int64{a, b} {
		if _, err := s.UpdateLocation(ctx, store.Update{PersonID: id, Position: pos(1, 1, time.Now())}); err != nil {
			t.Fatal(err)
		}
	}
	_, before, _, err := s.ChangesSince(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePerson(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, afterDelete, _, err := s.ChangesSince(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	kept := func(cursor uint64) bool {
		t.Helper()
		features, _, kept, err := s.ChangesSince(ctx, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if !kept && features != nil {
			t.Fatalf("cursor %d: not kept, yet %d features", cursor, len(features))
		}
		return kept
	}
	if !kept(before) || !kept(afterDelete) {
		t.Fatal("cursors expired before anything was pruned")
	}
	if n, err := s.PruneTombstones(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruning tombstones older than an hour: %d, %v; want none", n, err)
	}
	if n, err := s.PruneTombstones(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("pruning every tombstone: %d, %v; want 1", n, err)
	}
	if kept(before) {
		t.Error("a cursor from before the pruned removal still resumes: the client would never learn A is gone")
	}
	if !kept(afterDelete) {
		t.Error("a cursor from after the pruned removal expired")
	}
	if !kept(0) {
		t.Error("cursor 0 (everything kept) expired")
	}
	if kept(afterDelete + 1<<40) {
		t.Error("a cursor from the future (another database) resumes")
	}
}

func TestSnapshotFiltersByBBoxAcrossTheAntimeridian(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	now := time.Now()
	east, west, far := person(t, s, "E"), person(t, s, "W"), person(t, s, "F")
	for id, lon := range map[int64]float64{east: 179.5, west: -179.5, far: 0} {
		if _, err := s.UpdateLocation(ctx, store.Update{PersonID: id, Position: pos(lon, 0, now)}); err != nil {
			t.Fatal(err)
		}
	}
	box, _ := geo.NewBBox([]float64{179, -1, -179, 1})
	got, _, err := s.Snapshot(ctx, geo.Filter{BBox: &box})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || decode(t, got[0]).ID != east || decode(t, got[1]).ID != west {
		t.Fatalf("snapshot: %s", got)
	}
	got, _, err = s.Snapshot(ctx, geo.Filter{IDs: []int64{far}})
	if err != nil || len(got) != 1 {
		t.Fatalf("ids filter: %s %v", got, err)
	}
}

func TestResentFixIsStoredOnceAndFlaggedFixKeepsTheMarker(t *testing.T) {
	ctx := context.Background()
	s, dsn := open(t)
	id := person(t, s, "Ada")
	at := time.Now().UTC().Add(-time.Minute)
	fix := store.Update{PersonID: id, Position: pos(4.5, 52.1, at)}
	res, err := s.UpdateLocations(ctx, []store.Update{fix, fix})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Moved || !res[1].Duplicate || res[1].Moved {
		t.Fatalf("a fix twice in one batch: %+v", res)
	}
	res, err = s.UpdateLocations(ctx, []store.Update{fix})
	if err != nil || !res[0].Duplicate {
		t.Fatalf("resent fix: %+v %v", res, err)
	}
	flagged := store.Update{PersonID: id, Position: pos(0, 0, at.Add(time.Second)), Flag: "null_island"}
	res, err = s.UpdateLocations(ctx, []store.Update{flagged})
	if err != nil || res[0].Moved || res[0].Duplicate {
		t.Fatalf("flagged fix: %+v %v", res, err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows, flags int
	if err := conn.QueryRow(ctx, "SELECT count(*), count(flag) FROM location_history WHERE person_id = $1", id).Scan(&rows, &flags); err != nil {
		t.Fatal(err)
	}
	if rows != 2 || flags != 1 {
		t.Fatalf("history has %d rows (%d flagged), want 2 (1 flagged)", rows, flags)
	}
	f := decode(t, mustPerson(t, s, id))
	if f.Properties["version"] != 1.0 || f.Geometry.Coordinates[0] != 4.5 {
		t.Fatalf("after a duplicate and a flagged fix: %+v", f)
	}
}

func TestHeartbeatUpdatesLastSeenOnly(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	id := person(t, s, "Ada")
	if err := s.Heartbeat(ctx, id); err != nil {
		t.Fatal(err)
	}
	f := decode(t, mustPerson(t, s, id))
	if f.Properties["last_seen_at"] == nil || f.Properties["version"] != 0.0 || f.Geometry != nil {
		t.Fatalf("after a heartbeat: %+v", f)
	}
	if err := s.Heartbeat(ctx, 987654); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("heartbeat of nobody: %v", err)
	}
}

func mustPerson(t *testing.T, s *store.Store, id int64) []byte {
	t.Helper()
	b, err := s.Person(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Batches lock their people in id order whatever order they arrive in, so
// concurrent batches over the same people queue instead of deadlocking.
func TestConcurrentBatchesOverTheSamePeopleNeverDeadlock(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	var ids []int64
	for i := range 40 {
		ids = append(ids, person(t, s, fmt.Sprintf("P%d", i)))
	}
	const writers, batches = 4, 15
	t0 := time.Now().UTC().Add(-time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for b := range batches {
				order := slices.Clone(ids)
				rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				ups := make([]store.Update, len(order))
				for i, id := range order {
					at := t0.Add(time.Duration(b*writers+w) * time.Second)
					ups[i] = store.Update{PersonID: id, Position: pos(float64(w), float64(i%80), at)}
				}
				if _, err := s.UpdateLocations(ctx, ups); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// featureByJSONBuild is how person_feature built a Feature before migration
// 11 (json_build_object, nulls stripped): the bytes every client has seen.
const featureByJSONBuild = `json_build_object(
	'type', 'Feature',
	'id', p.id,
	'geometry', CASE WHEN p.loc IS NULL THEN NULL ELSE json_build_object(
		'type', 'Point',
		'coordinates', json_build_array(ST_X(p.loc::geometry), ST_Y(p.loc::geometry))) END,
	'properties', json_strip_nulls(json_build_object(
		'name', p.name,
		'device_id', p.device_id,
		'recorded_at', to_char(p.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		'updated_at', to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		'last_seen_at', to_char(p.seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		'version', p.version,
		'accuracy_m', p.accuracy_m,
		'speed_mps', p.speed_mps,
		'heading_deg', p.heading_deg,
		'altitude_m', p.altitude_m,
		'battery', p.battery)))::text`

// The Feature is concatenated text now; it must stay byte for byte what
// json_build_object made, whatever the values: escapes, unicode, missing
// readings, extreme and non-finite numbers, no position yet.
func TestPersonFeatureIsTheBytesJSONBuildMade(t *testing.T) {
	ctx := context.Background()
	_, dsn := open(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	names := []string{"Ada", `quote " and \ back`, "tab\tnew\nline\x01\x1f", "é ü 東京 🚚", "\u2028<>&'", strings.Repeat("x", 200)}
	nums := []string{"NULL", "0", "-0", "1e-05", "0.0001", "1234567", "1e+15", "123456789012345.6",
		"1.7976931348623157e+308", "5e-324", "-3.25", "'NaN'", "'Infinity'", "'-Infinity'"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		name := names[i%len(names)]
		var device *string
		if i%3 > 0 {
			d := fmt.Sprintf("dev-%d-%.20s", i, names[(i+1)%len(names)])
			device = &d
		}
		num := func() string { return nums[rng.IntN(len(nums))] }
		loc := fmt.Sprintf("ST_SetSRID(ST_MakePoint(%g, %g), 4326)::geography", rng.Float64()*360-180, rng.Float64()*180-90)
		at, seen := "now() - interval '3 days'", "now()"
		if i%7 == 0 {
			loc, at = "NULL", "NULL"
		}
		if i%5 == 0 {
			seen = "NULL"
		}
		q := fmt.Sprintf(`INSERT INTO person (name, device_id, token_hash, loc, recorded_at, seen_at, version,
			accuracy_m, speed_mps, heading_deg, altitude_m, battery)
			VALUES ($1, $2, $3, %s, %s, %s, %d, %s, %s, %s, %s, %s)
			RETURNING person_feature(person)::text, (SELECT %s FROM (SELECT person.*) p)`,
			loc, at, seen, i, num(), num(), num(), num(), num(), featureByJSONBuild)
		var got, want string
		if err := conn.QueryRow(ctx, q, name, device, store.HashToken(fmt.Sprint(i))).Scan(&got, &want); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if got != want {
			t.Fatalf("row %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// The server prints a moved person's Feature itself (store.appendFeature);
// it must be the bytes person_feature prints for a GET, whatever the values.
func TestPutAnswerIsTheBytesOfGet(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	commit := s.NewCommitter(store.CommitConfig{})
	defer commit.Close()
	names := []string{"Ada", `quote " and \ back`, "tab\tnew\nline\x01\x1f\x7f", "é ü 東京 🚚", "\u2028<>&'"}
	coords := []float64{0, math.Copysign(0, -1), 180, -180, 90, -90, 1e-7, -1e-5, 4.890000001, 179.99999999999997, 52.37}
	nums := []float64{0, math.Copysign(0, -1), 1e-05, 0.0001, 1234567, 1e+15, 1e14, 123456789012345.6,
		1.7976931348623157e+308, 5e-324, -3.25, 0.1 + 0.2, 1.0 / 3}
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(xs []float64) float64 { return xs[rng.IntN(len(xs))] }
	maybe := func() *float64 {
		if rng.IntN(3) == 0 {
			return nil
		}
		v := pick(nums)
		return &v
	}
	base := time.Now().Add(-time.Hour)
	for i := range 120 {
		var device string
		if i%2 == 0 {
			device = fmt.Sprintf("dev-%d-%.10s", i, names[i%len(names)])
		}
		p, err := s.CreatePerson(ctx, names[i%len(names)], device)
		if err != nil {
			t.Fatal(err)
		}
		at := base.Add(time.Duration(rng.Int64N(int64(time.Hour))))
		lon, lat := pick(coords), math.Max(-90, math.Min(90, pick(coords)))
		if i%4 == 0 {
			lon, lat = rng.Float64()*360-180, rng.Float64()*180-90
		}
		pos := geo.Position{Point: geo.Point{Lon: lon, Lat: lat}, RecordedAt: at,
			Readings: geo.Readings{AccuracyM: maybe(), SpeedMPS: maybe(), HeadingDeg: maybe(), AltitudeM: maybe(), Battery: maybe()}}
		up := store.Update{PersonID: p.ID, Position: pos}
		var put []byte
		if i%2 == 0 {
			put, err = s.UpdateLocation(ctx, up)
		} else {
			var res store.Result
			res, err = commit.Submit(ctx, up)
			put = res.Feature
		}
		if err != nil {
			t.Fatal(err)
		}
		get, err := s.Person(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if string(put) != string(get) {
			t.Fatalf("person %d:\nPUT %s\nGET %s", i, put, get)
		}
	}
}
