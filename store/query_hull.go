package store

import (
	"encoding/binary"
	"fmt"

	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/wkb"

	"whereabouts/geo"
)

// geocentricHull returns points whose 3-D bounding box contains every point
// of the lon/lat boxes, so that `loc && hull::geography` is an index-backed
// superset test for shapes with planar lon/lat edges.
//
// Why not the shape's own geography box: the geography GiST index keeps
// geocentric (x, y, z) boxes, and PostGIS computes a polygon's box along
// great circles, which bend poleward of a parallel; a box from 10°N to 20°N
// and 60°W to 60°E then misses (0°, 10°N), which the planar box contains.
// A point set has no edges, so its box is just its points' extremes.
//
// On the unit sphere x = cos(lat)·cos(lon), y = cos(lat)·sin(lon),
// z = sin(lat). Each is a product of a factor in lat and a factor in lon over
// independent intervals, so its extremes lie where each factor is extreme:
// lat at its ends or the equator, lon at its ends or a multiple of 90°.
// The index compares boxes rounded outwards to float32, so points exactly on
// an edge are kept.
func geocentricHull(boxes []geo.BBox) *geom.MultiPoint {
	var flat []float64
	for _, b := range boxes {
		if b.CrossesAntimeridian() {
			flat = appendExtremes(flat, geo.BBox{MinLon: b.MinLon, MinLat: b.MinLat, MaxLon: 180, MaxLat: b.MaxLat})
			b.MinLon = -180
		}
		flat = appendExtremes(flat, b)
	}
	return geom.NewMultiPointFlat(geom.XY, flat).SetSRID(4326)
}

// appendExtremes adds the candidate extreme points of one box that does not
// cross the antimeridian.
func appendExtremes(flat []float64, b geo.BBox) []float64 {
	lats := []float64{b.MinLat, b.MaxLat}
	if b.MinLat < 0 && b.MaxLat > 0 {
		lats = append(lats, 0)
	}
	lons := []float64{b.MinLon, b.MaxLon}
	for _, l := range []float64{-180, -90, 0, 90, 180} {
		if b.MinLon < l && l < b.MaxLon {
			lons = append(lons, l)
		}
	}
	for _, lat := range lats {
		for _, lon := range lons {
			flat = append(flat, lon, lat)
		}
	}
	return flat
}

// wkbOf encodes a geometry for ST_GeomFromWKB: exact, and no text to parse.
func wkbOf(g geom.T) ([]byte, error) {
	b, err := wkb.Marshal(g, binary.LittleEndian)
	if err != nil {
		return nil, fmt.Errorf("encode wkb: %w", err)
	}
	return b, nil
}
