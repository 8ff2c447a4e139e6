package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
	"whereabouts/store"
)

// seedPlanData fills a database the way a busy server looks: thousands of
// people spread over the globe, each with a long history, then ANALYZE, so
// the planner decides on real statistics (no enable_seqscan tricks).
func seedPlanData(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(ctx) })
	for _, q := range []string{
		`INSERT INTO person (name, token_hash, loc, recorded_at, version)
		SELECT 'p' || i, decode(md5(i::text), 'hex'),
			ST_SetSRID(ST_MakePoint(random() * 360 - 180, degrees(asin(2 * random() - 1))), 4326)::geography,
			now() - random() * interval '10 days', 1
		FROM generate_series(1, 5000) i`,
		`INSERT INTO location_history (person_id, loc, recorded_at)
		SELECT p.id, ST_SetSRID(ST_MakePoint(random() * 10, random() * 10), 4326)::geography,
			now() - random() * interval '30 days'
		FROM (SELECT id FROM person ORDER BY id LIMIT 200) p, generate_series(1, 1000) s`,
		`ANALYZE person`,
		`ANALYZE location_history`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

func explain(t *testing.T, db *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	rows, err := db.Query(context.Background(), "EXPLAIN "+sql, args...)
	if err != nil {
		t.Fatalf("explain: %v\n%s", err, sql)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

func TestQueryPlansUseTheIndexes(t *testing.T) {
	_, dsn := open(t)
	db := seedPlanData(t, dsn)
	t.Run("nearby", func(t *testing.T) { checkNearbyPlans(t, db) })
	t.Run("within prefilters with the GiST index", func(t *testing.T) {
		area, err := geo.ParseArea([]byte(`{"type":"Polygon","coordinates":[[[-60,10],[60,10],[60,20],[-60,20],[-60,10]]]}`))
		if err != nil {
			t.Fatal(err)
		}
		args, err := store.WithinArgs(area, nil)
		if err != nil {
			t.Fatal(err)
		}
		if plan := explain(t, db, store.WithinSQL, args...); !strings.Contains(plan, "person_loc_idx") || strings.Contains(plan, "Seq Scan") {
			t.Fatalf("plan does not use person_loc_idx:\n%s", plan)
		}
	})
	t.Run("history", func(t *testing.T) { checkHistoryPlans(t, db) })
}

func checkNearbyPlans(t *testing.T, db *pgx.Conn) {
	amsterdam := geo.Point{Lon: 4.89, Lat: 52.37}
	week := time.Now().Add(-7 * 24 * time.Hour)
	for _, c := range []struct {
		name string
		q    store.NearbyQuery
		want []string
	}{
		// The KNN step orders by the index; the second step's ST_DWithin uses it too.
		{"the nearest", store.NearbyQuery{Center: amsterdam, Limit: 10},
			[]string{"Index Scan using person_loc_idx", "Order By: (loc <->", "loc && _st_expand("}},
		{"the nearest seen within a week", store.NearbyQuery{Center: amsterdam, Limit: 10, SeenSince: week},
			[]string{"Index Scan using person_loc_idx", "Order By: (loc <->", "loc && _st_expand("}},
		// A small radius is selective: the planner may fetch by ST_DWithin and
		// sort the few rows instead of walking KNN; either way, by the index.
		{"the nearest within a radius", store.NearbyQuery{Center: amsterdam, Limit: 10, RadiusM: 500_000},
			[]string{"person_loc_idx", "loc && _st_expand("}},
		// One device sees itself only: its primary key is the better index.
		{"the nearest for one device", store.NearbyQuery{Center: amsterdam, Limit: 10, IDs: []int64{7}},
			[]string{"person_pkey"}},
	} {
		t.Run(c.name+" uses the index", func(t *testing.T) {
			sql, args := store.NearbySQL(c.q, store.OrderByIndex)
			plan := explain(t, db, sql, args...)
			for _, w := range c.want {
				if !strings.Contains(plan, w) || strings.Contains(plan, "Seq Scan") {
					t.Fatalf("plan lacks %q or scans the table:\n%s", w, plan)
				}
			}
		})
	}
}

func checkHistoryPlans(t *testing.T, db *pgx.Conn) {
	var id int64
	if err := db.QueryRow(context.Background(), "SELECT min(person_id) FROM location_history").Scan(&id); err != nil {
		t.Fatal(err)
	}
	week := time.Now().Add(-7 * 24 * time.Hour)
	after := &store.HistoryKey{RecordedAt: time.Now().Add(-15 * 24 * time.Hour), Lon: 5, Lat: 5}
	for _, c := range []struct {
		name string
		q    store.HistoryQuery
		want string
	}{
		// Without a window a page walks the unique key in page order from the
		// cursor on: no sort, however long the history.
		{"a first page reads the fix key in order", store.HistoryQuery{PersonID: id, Limit: 100},
			"Index Scan using location_history_fix_key"},
		{"a later page reads the fix key in order", store.HistoryQuery{PersonID: id, After: after, Limit: 100},
			"Index Scan using location_history_fix_key"},
		// A narrow window may be fetched by the same key and sorted: it is small.
		{"a later page within from and to reads the fix key", store.HistoryQuery{PersonID: id, From: week, To: time.Now(), After: after, Limit: 100},
			"location_history_fix_key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sql, args := store.HistorySQL(c.q)
			plan := explain(t, db, sql, args...)
			sorts := c.want != "location_history_fix_key" && strings.Contains(plan, "Sort")
			if !strings.Contains(plan, c.want) || strings.Contains(plan, "Seq Scan") || sorts {
				t.Fatalf("plan does not page on location_history_fix_key:\n%s", plan)
			}
		})
	}
}

// PostGIS aborts a KNN scan when someone stands where the query point is
// but under the other spelling of the antimeridian; Nearby then answers
// without the index order, and gets it right.
func TestNearbyAnswersWherePostGISAbortsTheKNNScan(t *testing.T) {
	s, dsn := open(t)
	db := seedPlanData(t, dsn)
	ctx := context.Background()
	var east, west int64
	err := db.QueryRow(ctx, `WITH e AS (INSERT INTO person (name, token_hash, loc, recorded_at)
		VALUES ('east', 'east', 'POINT(180 0)', now()) RETURNING id),
	w AS (INSERT INTO person (name, token_hash, loc, recorded_at)
		VALUES ('west', 'west', 'POINT(-180 0)', now()) RETURNING id)
	SELECT e.id, w.id FROM e, w`).Scan(&east, &west)
	if err != nil {
		t.Fatal(err)
	}
	q := store.NearbyQuery{Center: geo.Point{Lon: 180, Lat: 0}, Limit: 2}
	sql, args := store.NearbySQL(q, store.OrderByIndex)
	if _, err := db.Exec(ctx, sql, args...); err != nil {
		t.Logf("the KNN scan alone: %v", err)
	}
	got, err := s.Nearby(ctx, q)
	if err != nil || len(got) != 2 {
		t.Fatalf("nearby = %d features, %v", len(got), err)
	}
	for i, want := range []int64{east, west} {
		f := decode(t, got[i])
		if f.ID != want || f.Properties["distance_m"] != 0.0 {
			t.Fatalf("rank %d: %s, want person %d at 0 m", i, got[i], want)
		}
	}
}
