package api

import (
	"net/http"

	"whereabouts/static"
)

// Handler returns every route of the service. Nothing is registered
// anywhere else.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	admin, anyToken := s.auth(adminOnly), s.auth(deviceOrAdmin)

	mux.Handle("POST /api/v1/people", admin(s.createPerson))
	mux.Handle("GET /api/v1/people", anyToken(s.listPeople))
	mux.Handle("GET /api/v1/people/nearby", anyToken(s.nearby))
	mux.Handle("POST /api/v1/people/within", anyToken(s.within))
	mux.Handle("GET /api/v1/people/{id}", anyToken(s.getPerson))
	mux.Handle("GET /api/v1/people/{id}/history", anyToken(s.history))
	mux.Handle("DELETE /api/v1/people/{id}", admin(s.deletePerson))
	mux.Handle("PUT /api/v1/people/{id}/location", anyToken(s.putLocation))
	mux.Handle("POST /api/v1/locations", anyToken(s.postLocations))
	mux.Handle("GET /api/v1/stream", anyToken(s.streamWebSocket))

	// Phone apps, in their own protocols; each authenticates as the app can.
	mux.HandleFunc("GET /ingest/osmand", s.ingestOsmAnd)
	mux.HandleFunc("POST /ingest/osmand", s.ingestOsmAnd)
	mux.HandleFunc("POST /ingest/owntracks", s.ingestOwnTracks)
	mux.HandleFunc("POST /ingest/overland", s.ingestOverland)

	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /config.json", s.pageConfig)
	mux.Handle("/", static.Handler())
	mux.HandleFunc("/api/", s.notFound)

	return s.recoverPanics(s.logRequests(mux))
}

// OsmAndHandler serves the OsmAnd/Traccar adapter at every path, for a second
// port (WHEREABOUTS_OSMAND_ADDR) so a phone set up for a Traccar server only
// needs the host changed.
func (s *Server) OsmAndHandler() http.Handler {
	return s.recoverPanics(s.logRequests(http.HandlerFunc(s.ingestOsmAnd)))
}
