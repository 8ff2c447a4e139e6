package api

import (
	"net/http"

	"whereabouts/notify"
)

// streamWebSocket upgrades to the live stream. The filter comes from the
// query; a device that may not see others is scoped to itself for good.
func (s *Server) streamWebSocket(w http.ResponseWriter, r *http.Request) {
	f, err := notify.ParseFilter(r.URL.Query())
	if err != nil {
		writeError(w, r, s.log, invalidParameter(err))
		return
	}
	var scope notify.Scope
	if p := principalFrom(r.Context()); !p.admin && !s.cfg.DevicesSeeOthers {
		scope.OnlyID = p.personID
	}
	s.stream.Serve(w, r, f, scope)
}
