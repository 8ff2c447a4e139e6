package api

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3.1 description of every route, served at
// GET /api/v1/openapi.json.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	writeRawJSON(w, http.StatusOK, openAPIDoc)
}
