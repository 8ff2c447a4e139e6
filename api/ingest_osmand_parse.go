package api

import (
	"bytes"
	"cmp"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"whereabouts/geo"
)

// osmRequest is what one OsmAnd-protocol request carries: who it claims to
// be and its fixes, each already valid (geo.Position.Validate). No
// positions means a heartbeat.
type osmRequest struct {
	DeviceID  string // id, deviceid or device_id; "" when none was sent
	Token     string // a token parameter (or JSON "token"); "" when none
	Positions []geo.Position
	Index     []int // the JSON entry each position came from, for error messages
	Batch     bool  // the body was a JSON array: errors name the entry
}

// parseOsmAnd reads one request of the OsmAnd protocol family without any
// I/O: parameters in the query, in a form body (merged; the query wins), or
// Traccar Client's JSON body, in which case the query only identifies the
// device. On error the identity found so far is still returned, so the
// caller can authenticate before it answers.
func parseOsmAnd(query url.Values, body []byte, contentType string, now time.Time) (osmRequest, error) {
	var req osmRequest
	q := osmParams(query)
	if err := req.identifyParams(q); err != nil {
		return req, err
	}
	kind, err := osmBodyKind(contentType, body)
	if err != nil {
		return req, err
	}
	switch kind {
	case osmJSONBody:
		return req, req.readJSON(body, now)
	case osmFormBody:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return req, errorf(http.StatusBadRequest, "invalid_parameter", "the form body is not URL-encoded: "+err.Error())
		}
		if err := req.identifyParams(osmParams(form)); err != nil {
			return req, err
		}
		return req, req.addParams(osmMerge(query, form), 0, now)
	}
	return req, req.addParams(q, 0, now)
}

// identify records the identity one source (query, form, a JSON item)
// claims. One request is one device: sources that disagree are refused
// rather than one of them being picked.
func (req *osmRequest) identify(id, token string) error {
	if id != "" && req.DeviceID != "" && id != req.DeviceID {
		return errorf(http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("device ids %q and %q in one request; send one device per request", req.DeviceID, id))
	}
	if token != "" && req.Token != "" && token != req.Token {
		return errorf(http.StatusBadRequest, "invalid_parameter", "two different tokens in one request")
	}
	req.DeviceID, req.Token = cmp.Or(id, req.DeviceID), cmp.Or(token, req.Token)
	return nil
}

// addParams adds the fix in p, if it has coordinates.
func (req *osmRequest) addParams(p osmParams, entry int, now time.Time) error {
	pos, err := osmFromParams(p, now)
	if pos != nil {
		req.Positions, req.Index = append(req.Positions, *pos), append(req.Index, entry)
	}
	return err
}

const (
	osmNoBody = iota
	osmFormBody
	osmJSONBody
)

// osmBodyKind tells a form body from JSON. Traccar goes by Content-Type
// alone, but GPSLogger posts forms with no Content-Type and curl -d labels
// JSON as a form, so an unlabelled, form or text body is sniffed.
func osmBodyKind(contentType string, body []byte) (int, error) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return osmNoBody, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "", nil
	}
	switch {
	case err != nil:
	case mt == "application/json":
		return osmJSONBody, nil
	case mt == "" || mt == "application/x-www-form-urlencoded" || mt == "text/plain":
		if b[0] == '{' || b[0] == '[' {
			return osmJSONBody, nil
		}
		return osmFormBody, nil
	}
	return 0, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
		fmt.Sprintf("Content-Type %q: send URL parameters, a form (application/x-www-form-urlencoded) or application/json", contentType))
}

// osmParams is a parameter set. get returns the first non-empty value of the
// first name that has one, so "hdop=" counts as absent.
type osmParams url.Values

func (p osmParams) get(names ...string) string {
	for _, n := range names {
		for _, v := range p[n] {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return ""
}

// identifyParams records every id and token value in p, so that even one
// source naming two devices is refused.
func (req *osmRequest) identifyParams(p osmParams) error {
	for _, name := range []string{"id", "deviceid", "device_id", "token"} {
		for _, v := range p[name] {
			id, token := strings.TrimSpace(v), ""
			if name == "token" {
				id, token = "", id
			}
			if err := req.identify(id, token); err != nil {
				return err
			}
		}
	}
	return nil
}

// osmMerge puts the query's values before the form's: the query wins.
func osmMerge(query, form url.Values) osmParams {
	m := osmParams{}
	for k, v := range form {
		m[k] = v
	}
	for k, v := range query {
		m[k] = append(slices.Clone(v), m[k]...)
	}
	return m
}
