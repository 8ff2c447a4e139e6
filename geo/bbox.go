package geo

import (
	"fmt"
	"strconv"
	"strings"
)

// BBox is a longitude/latitude rectangle. MinLon > MaxLon means the box
// crosses the antimeridian (e.g. 170,-10,-170,10).
type BBox struct {
	MinLon, MinLat, MaxLon, MaxLat float64
}

// ParseBBox reads "minLon,minLat,maxLon,maxLat".
func ParseBBox(s string) (BBox, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return BBox{}, &FieldError{Field: "bbox", Reason: "must be minLon,minLat,maxLon,maxLat"}
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return BBox{}, &FieldError{Field: "bbox", Reason: fmt.Sprintf("%q is not a number", p)}
		}
		v[i] = f
	}
	return NewBBox(v[:])
}

// NewBBox builds a box from [minLon, minLat, maxLon, maxLat] and validates it.
func NewBBox(v []float64) (BBox, error) {
	if len(v) != 4 {
		return BBox{}, &FieldError{Field: "bbox", Reason: "must have 4 numbers"}
	}
	b := BBox{MinLon: v[0], MinLat: v[1], MaxLon: v[2], MaxLat: v[3]}
	for _, p := range []Point{{b.MinLon, b.MinLat}, {b.MaxLon, b.MaxLat}} {
		if err := p.Validate(); err != nil {
			return BBox{}, &FieldError{Field: "bbox", Reason: err.Error()}
		}
	}
	if b.MinLat > b.MaxLat {
		return BBox{}, &FieldError{Field: "bbox", Reason: "minLat is greater than maxLat"}
	}
	return b, nil
}

// CrossesAntimeridian reports whether the box wraps from 180 to -180.
func (b BBox) CrossesAntimeridian() bool { return b.MinLon > b.MaxLon }

// Contains reports whether p lies inside the box, edges included.
func (b BBox) Contains(p Point) bool {
	if p.Lat < b.MinLat || p.Lat > b.MaxLat {
		return false
	}
	if b.CrossesAntimeridian() {
		return p.Lon >= b.MinLon || p.Lon <= b.MaxLon
	}
	return p.Lon >= b.MinLon && p.Lon <= b.MaxLon
}
