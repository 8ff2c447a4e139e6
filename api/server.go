// Package api is the HTTP face of Whereabouts: every route, its handlers,
// authentication, and the JSON error body.
package api

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"time"

	"whereabouts/geo"
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

// Deps are the parts the API is wired to.
type Deps struct {
	Store   *store.Store       // writes, and reads that must see them
	Reads   *store.Store       // queries a replica may answer; nil: Store
	Commit  *store.Committer   // group commit for single fixes
	Devices *store.DeviceCache // device token lookups; nil: a query each time
	Streams Streams
	Ready   func() bool // the listener is connected and caught up
	Log     *slog.Logger
	Metrics *Metrics // nil: no metrics
}

// Server holds the dependencies every handler shares.
type Server struct {
	cfg     Config
	store   *store.Store
	reads   *store.Store
	commit  *store.Committer
	devices deviceLookup
	streams Streams
	ready   func() bool // the listener is connected and caught up
	log     *slog.Logger
	metrics *Metrics // nil: no metrics
	now     func() time.Time
}

// New wires the API. Single fixes go through d.Commit (group commit),
// batches straight to d.Store; list, get and the queries read d.Reads.
func New(cfg Config, d Deps) *Server {
	if cfg.Policy == (geo.Policy{}) {
		cfg.Policy = geo.DefaultPolicy
	}
	if d.Reads == nil {
		d.Reads = d.Store
	}
	var devices deviceLookup = d.Store
	if d.Devices != nil {
		devices = d.Devices
	}
	return &Server{cfg: cfg, store: d.Store, reads: d.Reads, commit: d.Commit, devices: devices, streams: d.Streams,
		ready: d.Ready, log: d.Log, metrics: d.Metrics, now: time.Now}
}

// deviceLookup resolves device tokens by their SHA-256: the store, or its
// cache.
type deviceLookup interface {
	DeviceByDigest(ctx context.Context, digest [sha256.Size]byte) (store.Device, error)
}
