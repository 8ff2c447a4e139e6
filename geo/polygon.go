package geo

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/geojson"
)

// MaxAreaVertices bounds the positions of one query area, closing positions
// included: enough for a detailed city boundary, small enough that checking
// it (and every person against it) stays cheap.
const MaxAreaVertices = 10_000

// ErrTooManyVertices means an area has more than MaxAreaVertices positions.
var ErrTooManyVertices = errors.New("too many vertices")

// GeometryError says why a GeoJSON body is not a usable area: its shape, not
// its topology (self-intersections are the database's call, see ST_IsValid).
type GeometryError struct {
	Reason string
}

func (e *GeometryError) Error() string { return e.Reason }

// Area is a validated query region: one or more polygons (holes allowed) in
// WGS 84 longitude/latitude. Edges are straight lines in lon/lat, as RFC 7946
// says; a region across the antimeridian is a MultiPolygon cut at ±180.
type Area struct {
	mp *geom.MultiPolygon
}

// MultiPolygon returns the area as a 2-D MultiPolygon with SRID 4326 (a
// Polygon becomes a MultiPolygon of one; a third coordinate is dropped).
func (a Area) MultiPolygon() *geom.MultiPolygon { return a.mp }

// Bounds returns the lon/lat box of each polygon of the area. None crosses
// the antimeridian: a polygon's longitudes never wrap.
func (a Area) Bounds() []BBox {
	boxes := make([]BBox, 0, a.mp.NumPolygons())
	for i := range a.mp.NumPolygons() {
		b := a.mp.Polygon(i).Bounds()
		boxes = append(boxes, BBox{MinLon: b.Min(0), MinLat: b.Min(1), MaxLon: b.Max(0), MaxLat: b.Max(1)})
	}
	return boxes
}

// ParseArea reads a GeoJSON Polygon or MultiPolygon, or a Feature with one,
// and checks what Go can: rings of at least 4 positions that end where they
// start, finite coordinates in range, at most MaxAreaVertices positions.
// Errors are *GeometryError, or wrap ErrTooManyVertices.
func ParseArea(b []byte) (Area, error) {
	raw, err := areaGeometry(b)
	if err != nil {
		return Area{}, err
	}
	var g geom.T
	if err := geojson.Unmarshal(raw, &g); err != nil {
		return Area{}, &GeometryError{Reason: "the geometry is not valid GeoJSON: " + err.Error()}
	}
	switch g := g.(type) {
	case *geom.Polygon:
		return newArea([]*geom.Polygon{g}, false)
	case *geom.MultiPolygon:
		polys := make([]*geom.Polygon, 0, g.NumPolygons())
		for i := range g.NumPolygons() {
			polys = append(polys, g.Polygon(i))
		}
		return newArea(polys, true)
	}
	return Area{}, &GeometryError{Reason: "the geometry must be a Polygon or a MultiPolygon"}
}

// areaGeometry returns the geometry member of a Feature, or the body itself
// when it is a Polygon or MultiPolygon.
func areaGeometry(b []byte) (json.RawMessage, error) {
	var head struct {
		Type     string          `json:"type"`
		Geometry json.RawMessage `json:"geometry"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, &GeometryError{Reason: "the body must be a GeoJSON object"}
	}
	switch head.Type {
	case "Polygon", "MultiPolygon":
		return b, nil
	case "Feature":
		if len(head.Geometry) == 0 || string(head.Geometry) == "null" {
			return nil, &GeometryError{Reason: "the Feature has no geometry"}
		}
		return head.Geometry, nil
	}
	return nil, &GeometryError{Reason: fmt.Sprintf("type %q is not accepted: send a Polygon, a MultiPolygon or a Feature with one", head.Type)}
}

// newArea validates every ring and copies the polygons into one 2-D
// MultiPolygon. multi says how the client nested them, for error messages.
func newArea(polys []*geom.Polygon, multi bool) (Area, error) {
	if len(polys) == 0 {
		return Area{}, &GeometryError{Reason: "the MultiPolygon has no polygons"}
	}
	n := 0
	for _, p := range polys {
		n += p.NumCoords()
	}
	if n > MaxAreaVertices {
		return Area{}, fmt.Errorf("the area has %d positions, more than %d: %w", n, MaxAreaVertices, ErrTooManyVertices)
	}
	flat := make([]float64, 0, 2*n)
	endss := make([][]int, 0, len(polys))
	for i, p := range polys {
		at := "coordinates"
		if multi {
			at = fmt.Sprintf("coordinates[%d]", i)
		}
		if p.NumLinearRings() == 0 {
			return Area{}, &GeometryError{Reason: at + " has no rings"}
		}
		var ends []int
		for r := range p.NumLinearRings() {
			ring := p.LinearRing(r)
			if err := checkRing(ring, fmt.Sprintf("%s[%d]", at, r)); err != nil {
				return Area{}, err
			}
			for _, c := range ring.Coords() {
				flat = append(flat, c.X(), c.Y())
			}
			ends = append(ends, len(flat))
		}
		endss = append(endss, ends)
	}
	return Area{mp: geom.NewMultiPolygonFlat(geom.XY, flat, endss).SetSRID(4326)}, nil
}

// checkRing reports the first problem of one linear ring; at names it the
// way the client wrote it, e.g. coordinates[0][1].
func checkRing(ring *geom.LinearRing, at string) error {
	coords := ring.Coords()
	if len(coords) < 4 {
		return &GeometryError{Reason: fmt.Sprintf("%s has %d positions; a ring needs at least 4, the last repeating the first", at, len(coords))}
	}
	for i, c := range coords {
		if err := (Point{Lon: c.X(), Lat: c.Y()}).Validate(); err != nil {
			return &GeometryError{Reason: fmt.Sprintf("%s[%d]: %v", at, i, err)}
		}
	}
	first, last := coords[0], coords[len(coords)-1]
	if first.X() != last.X() || first.Y() != last.Y() {
		return &GeometryError{Reason: at + " is not closed: its last position must equal its first"}
	}
	return nil
}
