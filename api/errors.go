package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgconn"

	"whereabouts/geo"
	"whereabouts/store"
)

// Error is an API error: an HTTP status, a stable snake_case code for
// programs and a sentence for people.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

var (
	errUnauthorized = errorf(http.StatusUnauthorized, "unauthorized", "a valid token is required (Authorization: Bearer <token>)")
	errForbidden    = errorf(http.StatusForbidden, "forbidden", "this token may not do that")
)

// toError is the one mapping from anything that went wrong to what the client
// is told.
func toError(err error) *Error {
	var apiErr *Error
	var fieldErr *geo.FieldError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &fieldErr):
		return errorf(http.StatusBadRequest, "invalid_location", fieldErr.Error())
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "no such person")
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, "conflict", "device_id is already taken")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, "unavailable", "the request was cancelled or timed out")
	case errors.As(err, &pgErr):
		return errorf(http.StatusInternalServerError, "internal", "internal error")
	default:
		// Connection-level failures: the database is down or unreachable.
		return errorf(http.StatusServiceUnavailable, "unavailable", "the database is unavailable; retry shortly")
	}
}

// writeError answers with the JSON error body, and logs what the client does
// not see for server-side failures.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := toError(err)
	switch {
	case e.Status == http.StatusServiceUnavailable:
		// The database is away (or not yet up): the outage is the news,
		// and /readyz and the listener report it; each refused request
		// is a warning.
		log.WarnContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "err", err)
	case e.Status >= 500:
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}
