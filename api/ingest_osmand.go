package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"whereabouts/store"
)

// ingestOsmAnd speaks the OsmAnd/Traccar protocol that Traccar Client,
// OsmAnd and GPSLogger's "custom URL" use. Success is 200 with an empty
// body, which is all these apps look at (any 2xx); failures carry the JSON
// error body so a person reading the app's log or curl sees why.
func (s *Server) ingestOsmAnd(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, r, s.log, errorf(http.StatusMethodNotAllowed, "method_not_allowed", "send GET or POST"))
		return
	}
	now := s.now()
	req, parseErr := osmRead(w, r, now)
	cred := osmCredential(r, req.Token)
	if parseErr != nil && cred == "" && req.DeviceID == "" {
		writeError(w, r, s.log, parseErr) // nothing to authenticate with
		return
	}
	// Authenticate before reporting what is wrong with the data, so that a
	// stranger learns nothing but 401.
	dev, err := s.osmDevice(r.Context(), cred, req.DeviceID)
	if err == nil {
		err = parseErr
	}
	if err == nil {
		err = s.osmStore(r.Context(), dev.PersonID, req, now)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// osmRead reads the bounded body and the raw query and parses them.
func osmRead(w http.ResponseWriter, r *http.Request, now time.Time) (osmRequest, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return osmRequest{}, errorf(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("the body is larger than %d bytes", MaxBody))
	}
	if err != nil {
		return osmRequest{}, errorf(http.StatusBadRequest, "invalid_parameter", "could not read the body: "+err.Error())
	}
	// url.ParseQuery, unlike r.URL.Query, reports a bad escape instead of
	// dropping the parameter, which could turn a fix into a heartbeat.
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return osmRequest{}, errorf(http.StatusBadRequest, "invalid_parameter", "the query string is not URL-encoded: "+err.Error())
	}
	return parseOsmAnd(query, body, r.Header.Get("Content-Type"), now)
}

// osmCredential finds a device token where each app can put one: a token
// parameter (Traccar Client and OsmAnd can only edit the URL), a Bearer
// header, or the Basic password (GPSLogger's login option).
func osmCredential(r *http.Request, param string) string {
	if param != "" {
		return param
	}
	if tok := bearerHeader(r); tok != "" {
		return tok
	}
	if _, pass, ok := r.BasicAuth(); ok && pass != "" {
		return pass
	}
	return ""
}

// osmDevice decides whose position this is. With a credential, an id, when
// sent, must be that person's device_id (or the token itself): a device
// moves only its own person. Without one, the id is tried as the token, so
// a Traccar Client user pastes the device token as "Device identifier" and
// changes nothing else.
func (s *Server) osmDevice(ctx context.Context, cred, id string) (store.Device, error) {
	if cred == "" && id == "" {
		return store.Device{}, errorf(http.StatusBadRequest, "invalid_parameter",
			"device id missing: send id=<device token>, token=<device token> or Authorization: Bearer <device token>")
	}
	dev, err := s.device(ctx, cmp.Or(cred, id))
	if errors.Is(err, errUnauthorized) {
		return store.Device{}, errorf(http.StatusUnauthorized, "unauthorized",
			"unknown device: use the person's device token as the id, or send token=<device token>")
	}
	if err != nil {
		return store.Device{}, err
	}
	if cred != "" && id != "" && id != cred && (dev.DeviceID == "" || id != dev.DeviceID) {
		return store.Device{}, errorf(http.StatusForbidden, "forbidden",
			fmt.Sprintf("this token may not post for device %q; a device posts only its own positions", id))
	}
	return dev, nil
}

// osmStore admits every position or none (see readJSON for why), then
// writes them in one transaction; no position is a heartbeat.
func (s *Server) osmStore(ctx context.Context, personID int64, req osmRequest, now time.Time) error {
	if len(req.Positions) == 0 {
		return osmGone(s.store.Heartbeat(ctx, personID))
	}
	ups := make([]store.Update, 0, len(req.Positions))
	for i, p := range req.Positions {
		up, err := s.admit(personID, p, now)
		if err != nil {
			return req.at(req.Index[i], err)
		}
		ups = append(ups, up)
	}
	results, err := s.write(ctx, ups)
	if err != nil {
		return err
	}
	for _, res := range results {
		if res.Err != nil {
			return osmGone(res.Err)
		}
	}
	return nil
}

// osmGone reports a person deleted since its token was checked as a token
// that is no longer valid.
func osmGone(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusUnauthorized, "unauthorized", "this device's person no longer exists")
	}
	return err
}
