// Package api is the HTTP face of Whereabouts: every route, its handlers,
// authentication, and the JSON error body.
package api

import (
	"log/slog"
	"time"

	"whereabouts/geo"
	"whereabouts/notify"
	"whereabouts/store"
)

// Config is what the API needs to know beyond its dependencies.
type Config struct {
	AdminToken       string
	DevicesSeeOthers bool   // device tokens may read everyone's live position
	TileURL          string // map tiles for the page; empty means none
	TileAttribution  string
	Policy           geo.Policy // zero value: geo.DefaultPolicy
}

// Server holds the dependencies every handler shares.
type Server struct {
	cfg     Config
	store   *store.Store
	commit  *store.Committer
	stream  *notify.WebSocket
	ready   func() bool // the listener is connected and caught up
	log     *slog.Logger
	metrics *Metrics // nil: no metrics
	now     func() time.Time
}

// New wires the API. Single fixes go through commit (group commit), batches
// straight to the store. ready reports whether the live pipeline is up, for
// /readyz. metrics may be nil (no /metrics, nothing counted).
func New(cfg Config, st *store.Store, commit *store.Committer, stream *notify.WebSocket, ready func() bool, log *slog.Logger, metrics *Metrics) *Server {
	if cfg.Policy == (geo.Policy{}) {
		cfg.Policy = geo.DefaultPolicy
	}
	return &Server{cfg: cfg, store: st, commit: commit, stream: stream, ready: ready, log: log, metrics: metrics, now: time.Now}
}
