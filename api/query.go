package api

import "net/http"

func (s *Server) nearby(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, s.log, errorf(http.StatusNotImplemented, "not_implemented", "not yet"))
}

func (s *Server) within(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, s.log, errorf(http.StatusNotImplemented, "not_implemented", "not yet"))
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, s.log, errorf(http.StatusNotImplemented, "not_implemented", "not yet"))
}
