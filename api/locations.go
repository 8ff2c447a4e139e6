package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"whereabouts/store"
)

// MaxBatch is the most positions one POST /api/v1/locations may carry.
const MaxBatch = 10000

func (s *Server) putLocation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if !principalFrom(r.Context()).mayMove(id) {
		writeError(w, r, s.log, errForbidden)
		return
	}
	body, err := readJSON(w, r, MaxBody)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	now := s.now()
	_, pos, err := parsePosition(body, now)
	var up store.Update
	if err == nil {
		up, err = s.admit(id, pos, now)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.write(r.Context(), []store.Update{up})
	if err == nil {
		err = res[0].Err
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	f := res[0].Feature
	if !res[0].Moved { // older, flagged or resent: the marker stays
		if f, err = s.store.Person(r.Context(), id); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	writeRawJSON(w, http.StatusOK, f)
}

type rejected struct {
	Index int    `json:"index"`
	Error *Error `json:"error"`
}

type batchResult struct {
	Accepted int        `json:"accepted"`
	Rejected []rejected `json:"rejected"`
}

// postLocations applies a batch in one transaction. Bad items are reported
// by index and never stop the good ones.
func (s *Server) postLocations(w http.ResponseWriter, r *http.Request) {
	body, err := readJSON(w, r, MaxBody)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items, err := batchItems(body)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res := batchResult{Rejected: []rejected{}}
	var ups []store.Update
	var index []int // ups[k] came from items[index[k]]
	who, now := principalFrom(r.Context()), s.now()
	for i, raw := range items {
		id, pos, err := parsePosition(raw, now)
		var up store.Update
		switch {
		case err != nil:
		case id == 0:
			err = invalidLocation("person_id is required in a batch")
		case !who.mayMove(id):
			err = errForbidden
		default:
			up, err = s.admit(id, pos, now)
		}
		if err != nil {
			res.Rejected = append(res.Rejected, rejected{Index: i, Error: toError(err)})
			continue
		}
		ups, index = append(ups, up), append(index, i)
	}
	results, err := s.write(r.Context(), ups)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	for k, out := range results {
		if out.Err != nil {
			res.Rejected = append(res.Rejected, rejected{Index: index[k], Error: toError(out.Err)})
			continue
		}
		res.Accepted++
	}
	slices.SortFunc(res.Rejected, func(a, b rejected) int { return a.Index - b.Index })
	writeJSON(w, http.StatusOK, res)
}

// batchItems accepts a JSON array of positions or a GeoJSON
// FeatureCollection.
func batchItems(body []byte) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if json.Unmarshal(body, &items) != nil {
		var fc struct {
			Type     string            `json:"type"`
			Features []json.RawMessage `json:"features"`
		}
		if json.Unmarshal(body, &fc) != nil || fc.Type != "FeatureCollection" {
			return nil, errorf(http.StatusBadRequest, "invalid_json", "send a JSON array of positions or a GeoJSON FeatureCollection")
		}
		items = fc.Features
	}
	if len(items) > MaxBatch {
		return nil, errorf(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("a batch may hold at most %d positions, this one has %d", MaxBatch, len(items)))
	}
	return items, nil
}
