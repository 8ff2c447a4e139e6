package api

import "net/http"

func (s *Server) ingestOverland(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, s.log, errorf(http.StatusNotImplemented, "not_implemented", "not yet"))
}
