package api

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// principal is who a request acts as: the admin, or one person's device.
type principal struct {
	admin    bool
	personID int64
}

type principalKey struct{}

func principalFrom(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// mayMove reports whether the principal may post positions of person id.
func (p principal) mayMove(id int64) bool { return p.admin || p.personID == id }

type access int

const (
	adminOnly access = iota
	deviceOrAdmin
)

// auth checks the token (Bearer header, or ?access_token= because browsers
// cannot set headers on a WebSocket) and puts the principal in the context.
func (s *Server) auth(level access) func(http.HandlerFunc) http.Handler {
	adminHash := sha256.Sum256([]byte(s.cfg.AdminToken))
	return func(next http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token := bearer(r)
			if token == "" {
				writeError(w, r, s.log, errUnauthorized)
				return
			}
			// Compare hashes: equal length, constant time.
			h := sha256.Sum256([]byte(token))
			p := principal{admin: s.cfg.AdminToken != "" && subtle.ConstantTimeCompare(h[:], adminHash[:]) == 1}
			if !p.admin {
				d, err := s.deviceByDigest(r.Context(), h)
				if err != nil {
					writeError(w, r, s.log, err)
					return
				}
				p.personID = d.PersonID
			}
			if level == adminOnly && !p.admin {
				writeError(w, r, s.log, errForbidden)
				return
			}
			next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
		})
	}
}

func bearer(r *http.Request) string {
	if r.Header.Get("Authorization") != "" {
		return bearerHeader(r)
	}
	return r.URL.Query().Get("access_token")
}

// bearerHeader is the token of an "Authorization: Bearer" header, or "".
func bearerHeader(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (flushing).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack hands the connection to the WebSocket upgrader, which asks for
// http.Hijacker directly; the upgrade is logged as 101.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.status = http.StatusSwitchingProtocols
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// logRequests logs one line per request. It logs the path, never the query,
// which may carry an access token.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

// recoverPanics turns a handler panic into a 500 with the JSON error body
// instead of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeError(w, r, s.log, errorf(http.StatusInternalServerError, "internal", "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
