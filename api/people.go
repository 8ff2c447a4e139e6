package api

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"whereabouts/geo"
)

type createPersonRequest struct {
	Name     string `json:"name"`
	DeviceID string `json:"device_id"`
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request) {
	body, err := readJSON(w, r, MaxBody)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req createPersonRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := validName("name", req.Name, true); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := validName("device_id", req.DeviceID, false); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	p, err := s.store.CreatePerson(r.Context(), strings.TrimSpace(req.Name), req.DeviceID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/people/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, p)
}

// validName keeps names and device ids printable and bounded: they travel in
// every NOTIFY payload, which must stay under 8000 bytes.
func validName(field, v string, required bool) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0 && !required:
		return nil
	case strings.TrimSpace(v) == "" || n > 200:
		return errorf(http.StatusBadRequest, "invalid_parameter", field+" must be 1 to 200 characters")
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return errorf(http.StatusBadRequest, "invalid_parameter", field+" must not contain control characters")
	}
	return nil
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) {
	var f geo.Filter
	if q := r.URL.Query().Get("bbox"); q != "" {
		b, err := geo.ParseBBox(q)
		if err != nil {
			writeError(w, r, s.log, invalidParameter(err))
			return
		}
		f.BBox = &b
	}
	f = s.scope(r, f)
	features, _, err := s.reads.Snapshot(r.Context(), f)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(`{"type":"FeatureCollection","features":[`)
	buf.Write(bytes.Join(features, []byte(",")))
	buf.WriteString("]}")
	writeRawJSON(w, http.StatusOK, buf.Bytes())
}

// scope narrows a filter to what the principal may see: a device sees only
// itself unless devices may see each other.
func (s *Server) scope(r *http.Request, f geo.Filter) geo.Filter {
	p := principalFrom(r.Context())
	if !p.admin && !s.cfg.DevicesSeeOthers {
		f.IDs = []int64{p.personID}
	}
	return f
}

// readablePerson is the {id} of the path, if the principal may read that
// person: a device reads others only when devices may see each other.
func (s *Server) readablePerson(r *http.Request) (int64, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, err
	}
	if p := principalFrom(r.Context()); !p.admin && !s.cfg.DevicesSeeOthers && p.personID != id {
		return 0, errForbidden
	}
	return id, nil
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request) {
	id, err := s.readablePerson(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	f, err := s.reads.Person(r.Context(), id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeRawJSON(w, http.StatusOK, f)
}

func (s *Server) deletePerson(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.store.DeletePerson(r.Context(), id); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, errorf(http.StatusBadRequest, "invalid_parameter", "id must be a positive integer")
	}
	return id, nil
}

func invalidParameter(err error) *Error {
	return errorf(http.StatusBadRequest, "invalid_parameter", err.Error())
}
