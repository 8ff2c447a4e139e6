package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// MaxBody bounds every request body (the API contract's 1 MiB).
const MaxBody = 1 << 20

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	writeRawJSON(w, status, b)
}

// writeRawJSON sends JSON the database already built, without re-encoding.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// readJSON reads a bounded JSON body. A missing Content-Type is taken as
// JSON (curl -d and many scripts omit it); any other type is refused.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/geo+json") {
			return nil, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type",
				fmt.Sprintf("Content-Type %q is not JSON; send application/json", ct))
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errorf(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("the body is larger than %d bytes", limit))
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_json", "could not read the body: "+err.Error())
	}
	if !json.Valid(b) {
		return nil, errorf(http.StatusBadRequest, "invalid_json", "the body is not valid JSON")
	}
	return b, nil
}

// decodeStrict decodes JSON into v, turning type mismatches into a clear
// message naming the field.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return errorf(http.StatusBadRequest, "invalid_json",
				fmt.Sprintf("%s must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value))
		}
		return errorf(http.StatusBadRequest, "invalid_json", err.Error())
	}
	return nil
}
