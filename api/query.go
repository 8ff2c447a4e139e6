package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"whereabouts/geo"
	"whereabouts/store"
)

// Limits of GET /api/v1/people/nearby.
const (
	nearbyDefault = 10
	nearbyMax     = 1000
	maxRadiusM    = 2e7 // 20,000 km: about half a meridian, the farthest two places can be
)

// nearby answers the people closest to lat, lon, nearest first, each with
// properties.distance_m. A device that may not see others finds only itself.
func (s *Server) nearby(w http.ResponseWriter, r *http.Request) {
	q, err := s.parseNearby(params(r.URL.Query()))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q.IDs = s.scope(r, geo.Filter{}).IDs
	features, err := s.reads.Nearby(r.Context(), q)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeRawJSON(w, http.StatusOK, featureCollection(features, ""))
}

// parseNearby reads lat, lon, limit, radius_m and seen_within, which counts
// back from the server clock.
func (s *Server) parseNearby(p params) (store.NearbyQuery, error) {
	var q store.NearbyQuery
	var err error
	if q.Center, err = p.point(); err != nil {
		return q, err
	}
	if q.Limit, err = p.limit(nearbyDefault, nearbyMax); err != nil {
		return q, err
	}
	radius, ok, err := p.float("radius_m")
	if err != nil {
		return q, err
	}
	if ok && (radius <= 0 || radius > maxRadiusM) {
		return q, badParam("radius_m must be greater than 0 and at most %.0f (20,000 km), not %g", float64(maxRadiusM), radius)
	}
	q.RadiusM = radius
	seen, err := p.duration("seen_within")
	if err != nil {
		return q, err
	}
	if seen > 0 {
		q.SeenSince = s.now().Add(-seen)
	}
	return q, nil
}

// within answers the people inside a GeoJSON Polygon or MultiPolygon (or a
// Feature with one), edges included. A malformed shape is 400, one with more
// than geo.MaxAreaVertices positions 413 (the batch limit's status), and one
// PostGIS finds invalid (self-intersecting) 422 with ST_IsValidReason.
func (s *Server) within(w http.ResponseWriter, r *http.Request) {
	body, err := readJSON(w, r, MaxBody)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	area, err := geo.ParseArea(body)
	if err != nil {
		writeError(w, r, s.log, areaError(err))
		return
	}
	features, err := s.reads.Within(r.Context(), area, s.scope(r, geo.Filter{}).IDs)
	if err != nil {
		writeError(w, r, s.log, areaError(err))
		return
	}
	writeRawJSON(w, http.StatusOK, featureCollection(features, ""))
}

// areaError maps what is wrong with an area to its status and code; anything
// else passes through to toError.
func areaError(err error) error {
	var shape *geo.GeometryError
	var invalid *store.InvalidGeometryError
	switch {
	case errors.Is(err, geo.ErrTooManyVertices):
		return errorf(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("an area may have at most %d positions; simplify it", geo.MaxAreaVertices))
	case errors.As(err, &shape):
		return errorf(http.StatusBadRequest, "invalid_geometry", shape.Reason)
	case errors.As(err, &invalid):
		return errorf(http.StatusUnprocessableEntity, "invalid_geometry", "the area is not a valid polygon: "+invalid.Reason)
	}
	return err
}

// featureCollection wraps Features the database built, untouched. A non-empty
// next adds a next_cursor member (RFC 7946 allows foreign members).
func featureCollection(features [][]byte, next string) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"type":"FeatureCollection","features":[`)
	buf.Write(bytes.Join(features, []byte(",")))
	buf.WriteString("]")
	writeNextCursor(&buf, next)
	buf.WriteString("}")
	return buf.Bytes()
}

func writeNextCursor(buf *bytes.Buffer, next string) {
	if next != "" {
		c, _ := json.Marshal(next)
		buf.WriteString(`,"next_cursor":`)
		buf.Write(c)
	}
}
