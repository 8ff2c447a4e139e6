package api

import (
	"context"
	"net/http"
	"time"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is 200 only when the database answers and the listener is
// connected, so a load balancer stops sending streams to an instance that
// would show a frozen map.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		writeError(w, r, s.log, errorf(http.StatusServiceUnavailable, "unavailable", "the database does not answer"))
		return
	}
	if !s.ready() {
		writeError(w, r, s.log, errorf(http.StatusServiceUnavailable, "unavailable", "the live listener is not connected"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// pageConfig tells the map page which tiles to draw.
func (s *Server) pageConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{
		"tile_url":         s.cfg.TileURL,
		"tile_attribution": s.cfg.TileAttribution,
	})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, s.log, errorf(http.StatusNotFound, "not_found", "no such route: "+r.Method+" "+r.URL.Path))
}
