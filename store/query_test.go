package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"whereabouts/geo"
	"whereabouts/store"
)

// boxPoints returns the corners, edge midpoints and random interior points of
// a box that does not cross the antimeridian, as parallel lon, lat slices.
func boxPoints(b geo.BBox, rnd *rand.Rand, lons, lats []float64) ([]float64, []float64) {
	midLon, midLat := (b.MinLon+b.MaxLon)/2, (b.MinLat+b.MaxLat)/2
	for _, lon := range []float64{b.MinLon, midLon, b.MaxLon} {
		for _, lat := range []float64{b.MinLat, midLat, b.MaxLat} {
			lons, lats = append(lons, lon), append(lats, lat)
		}
	}
	for range 50 {
		lons = append(lons, b.MinLon+rnd.Float64()*(b.MaxLon-b.MinLon))
		lats = append(lats, b.MinLat+rnd.Float64()*(b.MaxLat-b.MinLat))
	}
	return lons, lats
}

func TestGeocentricHullKeepsEveryPointOfItsBoxes(t *testing.T) {
	_, dsn := open(t)
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	rnd := rand.New(rand.NewPCG(1, 2))
	boxes := []geo.BBox{
		{MinLon: -60, MinLat: 10, MaxLon: 60, MaxLat: 20}, // the great-circle box misses (0, 10)
		{MinLon: -180, MinLat: -90, MaxLon: 180, MaxLat: 90},
		{MinLon: -180, MinLat: 80, MaxLon: 180, MaxLat: 90},
		{MinLon: -10, MinLat: -90, MaxLon: 10, MaxLat: -85},
		{MinLon: 170, MinLat: -10, MaxLon: 180, MaxLat: 10},
		{MinLon: 4.8, MinLat: 52.3, MaxLon: 4.8, MaxLat: 52.3}, // a point
	}
	for range 40 {
		lon, lat := rnd.Float64()*340-170, rnd.Float64()*170-85
		boxes = append(boxes, geo.BBox{MinLon: lon, MinLat: lat, MaxLon: min(180, lon+rnd.Float64()*100), MaxLat: min(90, lat+rnd.Float64()*40)})
	}
	for _, b := range boxes {
		lons, lats := boxPoints(b, rnd, nil, nil)
		hull, err := store.WKBOf(store.GeocentricHull([]geo.BBox{b}))
		if err != nil {
			t.Fatal(err)
		}
		var missed int
		err = db.QueryRow(ctx, `SELECT count(*) FROM unnest($1::float8[], $2::float8[]) u(lon, lat)
			WHERE NOT ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography && ST_GeomFromWKB($3, 4326)::geography`,
			lons, lats, hull).Scan(&missed)
		if err != nil || missed > 0 {
			t.Fatalf("box %+v: the hull misses %d of its points (err %v)", b, missed, err)
		}
	}
	// The hull must still narrow the search: Amsterdam's box excludes Sydney.
	hull, _ := store.WKBOf(store.GeocentricHull([]geo.BBox{{MinLon: 4, MinLat: 52, MaxLon: 5, MaxLat: 53}}))
	var far bool
	if err := db.QueryRow(ctx, `SELECT 'POINT(151.2 -33.9)'::geography && ST_GeomFromWKB($1, 4326)::geography`, hull).Scan(&far); err != nil || far {
		t.Fatalf("the hull of a small box contains the far side of the world (err %v)", err)
	}
}

func TestNearbyFeatureIsThePersonFeatureWithADistance(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	id := person(t, s, "Ada")
	if _, err := s.UpdateLocation(ctx, store.Update{PersonID: id, Position: pos(4.89, 52.37, time.Now())}); err != nil {
		t.Fatal(err)
	}
	plain, err := s.Person(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Nearby(ctx, store.NearbyQuery{Center: geo.Point{Lon: 4.9, Lat: 52.37}, Limit: 5})
	if err != nil || len(got) != 1 {
		t.Fatalf("nearby = %q, %v", got, err)
	}
	var f feature
	if err := json.Unmarshal(got[0], &f); err != nil {
		t.Fatalf("not JSON: %s", got[0])
	}
	d, ok := f.Properties["distance_m"].(float64)
	if !ok || d < 680 || d > 682 { // 0.01° of longitude at 52.37°N: N·cos(lat)·Δλ ≈ 681 m
		t.Fatalf("distance_m = %v in %s", f.Properties["distance_m"], got[0])
	}
	if i := bytes.Index(got[0], []byte(`,"distance_m":`)); i < 0 || !bytes.Equal(append(got[0][:i:i], "}}"...), plain) {
		t.Fatalf("nearby feature %s is not %s plus distance_m", got[0], plain)
	}
	if _, err := store.WithProperty([]byte(`{"type":"Feature","properties":{}}`), "x", "1"); err == nil {
		t.Fatal("spliced into empty properties")
	}
	if _, err := store.WithProperty([]byte(`{"type":"Feature"}`), "x", "1"); err == nil {
		t.Fatal("spliced into a feature without properties")
	}
}
