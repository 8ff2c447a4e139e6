package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"whereabouts/store"
)

// ingestOwnTracks is the OwnTracks apps' HTTP mode (POST, one JSON message
// per request, HTTP Basic auth). The apps resend a message until they get a
// 2xx, and Android re-queues it when the body is not a JSON array of
// messages, so success is always 200 with an array: [] or the friends list.
// Invalid data gets 400 with the JSON error body: nothing was stored, the app
// shows the status, and a fix refused for a fast phone clock is accepted
// when the app retries it later.
func (s *Server) ingestOwnTracks(w http.ResponseWriter, r *http.Request) {
	dev, err := s.otAuthenticate(r)
	if err != nil {
		s.otError(w, r, err)
		return
	}
	body, err := otReadBody(w, r)
	if err != nil {
		s.otError(w, r, err)
		return
	}
	// The app posts an empty payload when a friend is deleted on the phone.
	if len(bytes.TrimSpace(body)) == 0 {
		writeRawJSON(w, http.StatusOK, []byte("[]"))
		return
	}
	now := s.now()
	msgs, err := parseOwnTracks(body, now)
	if err == nil {
		err = s.otApply(r.Context(), dev.PersonID, msgs, now)
	}
	if err != nil {
		s.otError(w, r, err)
		return
	}
	writeRawJSON(w, http.StatusOK, s.otFriends(r.Context(), dev.PersonID))
}

// otAuthenticate resolves the device token. The apps send it as the Basic
// password, with the device_id as user; scripts may send it as a Bearer
// token instead. The X-Limit-U/X-Limit-D headers and ?u=&d= the apps and the
// Recorder use for identity are hints only: the token decides who moves.
func (s *Server) otAuthenticate(r *http.Request) (store.Device, error) {
	user, token, basic := r.BasicAuth()
	if !basic {
		token = bearer(r)
	}
	dev, err := s.device(r.Context(), token)
	if errors.Is(err, errUnauthorized) {
		return store.Device{}, errorf(http.StatusUnauthorized, "unauthorized",
			"HTTP Basic credentials are required: user = the person's device_id, password = the device token")
	}
	if err != nil {
		return store.Device{}, err
	}
	if basic && user != otUser(dev) {
		return store.Device{}, errorf(http.StatusForbidden, "forbidden",
			fmt.Sprintf("user %q is not the device_id this token belongs to", user))
	}
	return dev, nil
}

// otUser is the Basic user a device must send: its device_id, or the
// person's id for a person created without one.
func otUser(d store.Device) string {
	if d.DeviceID != "" {
		return d.DeviceID
	}
	return strconv.FormatInt(d.PersonID, 10)
}

// otReadBody reads the bounded body whatever its Content-Type: curl --data
// sends a JSON body as application/x-www-form-urlencoded.
func otReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errorf(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("the body is larger than %d bytes", MaxBody))
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_json", "could not read the body: "+err.Error())
	}
	return b, nil
}

// otApply admits every location through the same gate as the REST API and
// stores them in one transaction; a resent fix is stored once. A message
// without a location (transition, waypoint, card, ...) is not kept yet, but
// it shows the device is alive.
func (s *Server) otApply(ctx context.Context, personID int64, msgs []otMessage, now time.Time) error {
	var ups []store.Update
	for _, m := range msgs {
		if m.Position == nil {
			continue
		}
		up, err := s.admit(personID, *m.Position, now)
		if err != nil {
			return otRename(err)
		}
		ups = append(ups, up)
	}
	if len(ups) == 0 {
		return s.store.Heartbeat(ctx, personID)
	}
	res, err := s.write(ctx, ups)
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// otError answers with the JSON error body; a 401 also names the Basic
// realm, which is what makes a browser or curl --anyauth send credentials.
func (s *Server) otError(w http.ResponseWriter, r *http.Request, err error) {
	if toError(err).Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="whereabouts"`)
	}
	writeError(w, r, s.log, err)
}
