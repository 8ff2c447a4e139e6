package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"whereabouts/store"
)

// ovlMaxBody bounds an Overland request. The app sends up to 1000 points of
// about 600 bytes each, other senders more; 16 MiB leaves room for a full
// MaxBatch of 10,000 points, which is the count limit.
const ovlMaxBody = 16 << 20

// ovlResponse is the answer the app waits for: it deletes the batch from
// its queue only when "result" is "ok" (GLManager.m reads no other key
// except an optional "geocode"), so extra keys are safe.
type ovlResponse struct {
	Result   string        `json:"result"`
	Rejected []ovlRejected `json:"rejected,omitempty"`
}

// ingestOverland takes a batch from the Overland iOS app.
//
// The token decides whose points these are; properties.device_id is only
// informational. Valid fixes are written in one transaction and "ok" is
// sent only after the commit. A point that can never be stored (bad
// coordinates, refused by policy) is skipped, logged and listed under
// "rejected", and the answer is still "ok": the app resends an unanswered
// batch forever, so refusing it for one bad point would block the queue
// behind it for good. Resent batches are deduplicated by the store.
func (s *Server) ingestOverland(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	dev, err := s.device(ctx, ovlToken(r))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	body, err := ovlReadBody(w, r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	now := s.now()
	batch, err := parseOverland(body, now)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.ovlNoteDeviceIDs(ctx, dev, batch.DeviceIDs)
	rejected, err := s.ovlApply(ctx, dev.PersonID, batch, now)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if len(rejected) > 0 {
		s.log.WarnContext(ctx, "overland: points not stored", "person", dev.PersonID,
			"rejected", len(rejected), "first", rejected[0].Pointer+": "+rejected[0].Error.Message)
	}
	writeJSON(w, http.StatusOK, ovlResponse{Result: "ok", Rejected: rejected})
}

// ovlApply admits every fix under the server's policy and writes the
// admitted ones in one transaction. It returns what was not stored, in body
// order. A batch with nothing to store still records that the device was
// heard from.
func (s *Server) ovlApply(ctx context.Context, personID int64, b ovlBatch, now time.Time) ([]ovlRejected, error) {
	rejected := b.Rejected
	ups := make([]store.Update, 0, len(b.Fixes))
	for _, f := range b.Fixes {
		up, err := s.admit(personID, f.Pos, now)
		if err != nil {
			rejected = append(rejected, ovlReject(f.Index, err))
			continue
		}
		ups = append(ups, up)
	}
	ovlSortRejected(rejected)
	if len(ups) == 0 {
		if err := s.store.Heartbeat(ctx, personID); err != nil {
			return nil, ovlGone(err)
		}
		return rejected, nil
	}
	results, err := s.write(ctx, ups)
	if err != nil {
		return nil, err
	}
	for _, res := range results {
		if res.Err != nil {
			return nil, ovlGone(res.Err)
		}
	}
	return rejected, nil
}

// ovlNoteDeviceIDs logs (at debug level) a properties.device_id that is not
// the token's device. The token decides whose points these are: the app's
// Device ID field is free text, often empty, and proves nothing.
func (s *Server) ovlNoteDeviceIDs(ctx context.Context, dev store.Device, ids []string) {
	for _, id := range ids {
		if dev.DeviceID != "" && id != dev.DeviceID {
			s.log.DebugContext(ctx, "overland: properties.device_id differs from the token's device; the token decides",
				"person", dev.PersonID, "device_id", id)
			return
		}
	}
}

// ovlGone turns "no such person" into 401: the token's person was deleted
// while the request ran, so the token no longer authenticates anyone.
func ovlGone(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errUnauthorized
	}
	return err
}

// ovlSortRejected puts rejections in body order ("current" last): parse
// errors and policy refusals are found in two passes.
func ovlSortRejected(rs []ovlRejected) {
	key := func(r ovlRejected) int {
		if r.Index == nil {
			return MaxBatch + 1
		}
		return *r.Index
	}
	slices.SortStableFunc(rs, func(a, b ovlRejected) int { return cmp.Compare(key(a), key(b)) })
}

// ovlToken takes the device token from "Authorization: Bearer" (the app's
// Access Token setting) or else from ?token= in the endpoint URL. The
// header wins when both are set.
func ovlToken(r *http.Request) string {
	if tok := bearerHeader(r); tok != "" {
		return tok
	}
	return r.URL.Query().Get("token")
}

// ovlReadBody reads the bounded body whatever its Content-Type: the app
// sends application/json, other Overland-format senders vary, and the
// parser tells JSON from anything else.
func ovlReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := errorf(http.StatusRequestEntityTooLarge, "body_too_large",
		fmt.Sprintf("the body is larger than %d bytes; lower Points per Batch", ovlMaxBody))
	if r.ContentLength > ovlMaxBody {
		return nil, tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ovlMaxBody))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_json", "could not read the body: "+err.Error())
	}
	return b, nil
}
