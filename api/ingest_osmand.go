package api

import "net/http"

func (s *Server) ingestOsmAnd(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, s.log, errorf(http.StatusNotImplemented, "not_implemented", "not yet"))
}
