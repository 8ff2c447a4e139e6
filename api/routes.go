package api

import (
	"net/http"
	"strings"

	"whereabouts/static"
)

// Handler returns every route of the service.
func (s *Server) Handler() http.Handler {
	mux, _ := s.routes()
	return s.recoverPanics(s.logRequests(s.observeRequests("unmatched", mux)))
}

// Routes lists every route as "METHOD /path", for the OpenAPI document's
// test: a route missing from either side fails it.
func (s *Server) Routes() []string {
	_, patterns := s.routes()
	return patterns
}

// routes registers every route of the service; nothing is registered
// anywhere else.
func (s *Server) routes() (*http.ServeMux, []string) {
	mux := http.NewServeMux()
	var patterns []string
	handle := func(pattern string, h http.Handler) {
		mux.Handle(pattern, h)
		if strings.Contains(pattern, " ") {
			patterns = append(patterns, pattern)
		}
	}
	admin, anyToken := s.auth(adminOnly), s.auth(deviceOrAdmin)
	fn := func(f http.HandlerFunc) http.Handler { return f }

	handle("POST /api/v1/people", admin(s.createPerson))
	handle("GET /api/v1/people", anyToken(s.listPeople))
	handle("GET /api/v1/people/nearby", anyToken(s.nearby))
	handle("POST /api/v1/people/within", anyToken(s.within))
	handle("GET /api/v1/people/{id}", anyToken(s.getPerson))
	handle("GET /api/v1/people/{id}/history", anyToken(s.history))
	handle("DELETE /api/v1/people/{id}", admin(s.deletePerson))
	handle("PUT /api/v1/people/{id}/location", anyToken(s.putLocation))
	handle("POST /api/v1/locations", anyToken(s.postLocations))
	handle("GET /api/v1/stream", anyToken(s.streamHandler(s.streams.WebSocket.Serve)))
	handle("GET /api/v1/events", anyToken(s.streamHandler(s.streams.Events.Serve)))
	handle("GET /api/v1/poll", anyToken(s.streamHandler(s.streams.Poll.Serve)))
	handle("GET /api/v1/openapi.json", fn(s.openAPI))

	// Phone apps, in their own protocols; each authenticates as the app can.
	handle("GET /ingest/osmand", fn(s.ingestOsmAnd))
	handle("POST /ingest/osmand", fn(s.ingestOsmAnd))
	handle("POST /ingest/owntracks", fn(s.ingestOwnTracks))
	handle("POST /ingest/overland", fn(s.ingestOverland))

	handle("GET /healthz", fn(s.healthz))
	handle("GET /readyz", fn(s.readyz))
	// No auth, like the health checks: scrape it from the private network and
	// do not expose it publicly.
	handle("GET /metrics", fn(s.serveMetrics))
	handle("GET /config.json", fn(s.pageConfig))
	// The page takes every other path; without a method, so that the JSON
	// 404 below can claim /api/ for all methods.
	mux.Handle("/", static.Handler())
	patterns = append(patterns, "GET /")
	handle("/api/", fn(s.notFound))
	handle("/ingest/", fn(s.notFound))
	return mux, patterns
}

// OsmAndHandler serves the OsmAnd/Traccar adapter at every path, for a second
// port (WHEREABOUTS_OSMAND_ADDR) so a phone set up for a Traccar server only
// needs the host changed.
func (s *Server) OsmAndHandler() http.Handler {
	return s.recoverPanics(s.logRequests(s.observeRequests("osmand port", http.HandlerFunc(s.ingestOsmAnd))))
}
