package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"whereabouts/geo"
	"whereabouts/store"
)

// config is everything serve and migrate read from flags and the
// environment. Flags win over the environment.
type config struct {
	Addr              string
	DatabaseURL       string
	ListenDatabaseURL string // LISTEN connection and migrations; empty: DatabaseURL
	ReadDatabaseURL   string // queries a replica may answer; empty: DatabaseURL
	DataDir           string
	AdminToken        string
	DevicesSeeOthers  bool
	TileURL           string
	TileAttribution   string
	Migrate           bool
	Simulate          int
	LogLevel          slog.Level
	LogJSON           bool
	OsmAndAddr        string // second listener for Traccar Client / OsmAnd
	Policy            geo.Policy
	Commit            store.CommitConfig
	HistoryRetention  time.Duration // 0: keep forever
	PollTimeout       time.Duration // longest a long-poll waits for a change
	Args              []string      // positional arguments after the flags
}

const (
	defaultTileURL         = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
	defaultTileAttribution = `&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors`
)

// parseConfig reads the environment first, then flags that override it.
func parseConfig(name string, args []string, getenv func(string) string, stdout io.Writer) (config, error) {
	env := func(key, def string) string {
		if v, ok := lookup(getenv, key); ok {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	var c config
	var logLevel string
	fs.StringVar(&c.Addr, "addr", env("WHEREABOUTS_ADDR", "127.0.0.1:8080"), "listen address (WHEREABOUTS_ADDR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("WHEREABOUTS_DATABASE_URL", ""), "PostgreSQL URL; empty runs an embedded cluster in -data-dir (WHEREABOUTS_DATABASE_URL)")
	fs.StringVar(&c.ListenDatabaseURL, "listen-database-url", env("WHEREABOUTS_LISTEN_DATABASE_URL", ""), "PostgreSQL URL for the LISTEN connection and migrations, which need a session of their own: the primary directly when queries go through PgBouncer (WHEREABOUTS_LISTEN_DATABASE_URL)")
	fs.StringVar(&c.ReadDatabaseURL, "read-database-url", env("WHEREABOUTS_READ_DATABASE_URL", ""), "PostgreSQL URL of a streaming replica for list, get, nearby, within and history (WHEREABOUTS_READ_DATABASE_URL)")
	fs.StringVar(&c.DataDir, "data-dir", env("WHEREABOUTS_DATA_DIR", "./data"), "embedded database and generated admin token (WHEREABOUTS_DATA_DIR)")
	fs.StringVar(&c.TileURL, "tile-url", env("WHEREABOUTS_TILE_URL", defaultTileURL), "map tile URL template; empty for a plain background (WHEREABOUTS_TILE_URL)")
	fs.StringVar(&c.TileAttribution, "tile-attribution", env("WHEREABOUTS_TILE_ATTRIBUTION", defaultTileAttribution), "map tile attribution HTML (WHEREABOUTS_TILE_ATTRIBUTION)")
	fs.StringVar(&c.OsmAndAddr, "osmand-addr", env("WHEREABOUTS_OSMAND_ADDR", ""), "also serve the OsmAnd/Traccar protocol at / on this address, e.g. 127.0.0.1:5055 (WHEREABOUTS_OSMAND_ADDR)")
	fs.IntVar(&c.Commit.MaxRows, "group-commit-rows", envInt(getenv, "WHEREABOUTS_GROUP_COMMIT_ROWS", 256), "most single-fix writes in one transaction (WHEREABOUTS_GROUP_COMMIT_ROWS)")
	fs.DurationVar(&c.Commit.MaxDelay, "group-commit-delay", envDuration(getenv, "WHEREABOUTS_GROUP_COMMIT_DELAY", 2*time.Millisecond), "longest a write waits to share a transaction (WHEREABOUTS_GROUP_COMMIT_DELAY)")
	fs.DurationVar(&c.PollTimeout, "poll-timeout", envDuration(getenv, "WHEREABOUTS_POLL_TIMEOUT", 25*time.Second), "longest GET /api/v1/poll waits for a change; keep it under your proxies' read timeout (WHEREABOUTS_POLL_TIMEOUT)")
	fs.IntVar(&c.Commit.Shards, "group-commit-shards", envInt(getenv, "WHEREABOUTS_GROUP_COMMIT_SHARDS", 1), "transactions in flight at once, by person id (WHEREABOUTS_GROUP_COMMIT_SHARDS)")
	fs.IntVar(&c.Simulate, "simulate", 0, "also walk this many demo people around (0: none)")
	fs.StringVar(&logLevel, "log-level", env("WHEREABOUTS_LOG_LEVEL", "info"), "debug, info, warn or error (WHEREABOUTS_LOG_LEVEL)")
	fs.BoolVar(&c.LogJSON, "log-json", env("WHEREABOUTS_LOG_FORMAT", "text") == "json", "log JSON lines (WHEREABOUTS_LOG_FORMAT=json)")
	migrate := fs.Bool("migrate", true, "apply migrations on start (WHEREABOUTS_MIGRATE)")
	seeOthers := fs.Bool("devices-see-others", true, "device tokens may read everyone's live position (WHEREABOUTS_DEVICES_SEE_OTHERS)")
	var err error
	if *migrate, err = envBool(getenv, "WHEREABOUTS_MIGRATE", true); err != nil {
		return c, err
	}
	if *seeOthers, err = envBool(getenv, "WHEREABOUTS_DEVICES_SEE_OTHERS", true); err != nil {
		return c, err
	}
	if c.Policy, err = parsePolicy(getenv); err != nil {
		return c, err
	}
	if c.HistoryRetention, err = store.ParseRetention(getenv("WHEREABOUTS_HISTORY_RETENTION")); err != nil {
		return c, fmt.Errorf("WHEREABOUTS_HISTORY_RETENTION: %w", err)
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := checkNumbers(getenv, c); err != nil {
		return c, err
	}
	c.Migrate, c.DevicesSeeOthers, c.Args = *migrate, *seeOthers, fs.Args()
	if c.TileURL == "none" {
		c.TileURL = ""
	}
	c.AdminToken = getenv("WHEREABOUTS_ADMIN_TOKEN")
	if err := c.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return c, fmt.Errorf("log level %q: %w", logLevel, err)
	}
	return c, nil
}

// parsePolicy reads what to do with suspicious fixes; unset variables keep
// geo.DefaultPolicy.
func parsePolicy(getenv func(string) string) (geo.Policy, error) {
	pol := geo.DefaultPolicy
	for key, dst := range map[string]*geo.Mode{
		"WHEREABOUTS_FILTER_NULL_ISLAND": &pol.NullIsland,
		"WHEREABOUTS_FILTER_FUTURE":      &pol.Future,
		"WHEREABOUTS_FILTER_INACCURATE":  &pol.Inaccurate,
	} {
		if v, ok := lookup(getenv, key); ok {
			m, err := geo.ParseMode(v)
			if err != nil {
				return pol, fmt.Errorf("%s: %w", key, err)
			}
			*dst = m
		}
	}
	if v, ok := lookup(getenv, "WHEREABOUTS_MAX_ACCURACY_M"); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return pol, fmt.Errorf("WHEREABOUTS_MAX_ACCURACY_M=%q is not a distance in metres", v)
		}
		pol.MaxAccuracyM = f
		if _, set := lookup(getenv, "WHEREABOUTS_FILTER_INACCURATE"); !set {
			pol.Inaccurate = geo.Flag
		}
	}
	return pol, nil
}

// envInt and envDuration return def for an unset or malformed value; the
// flag package then reports nothing, so malformed values are caught by
// checkNumbers after parsing.
func envInt(getenv func(string) string, key string, def int) int {
	if v, err := strconv.Atoi(getenv(key)); err == nil {
		return v
	}
	return def
}

func envDuration(getenv func(string) string, key string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(getenv(key)); err == nil {
		return v
	}
	return def
}

// checkNumbers refuses malformed or out-of-range numeric settings instead of
// silently using a default.
func checkNumbers(getenv func(string) string, c config) error {
	for _, key := range []string{"WHEREABOUTS_GROUP_COMMIT_ROWS", "WHEREABOUTS_GROUP_COMMIT_SHARDS"} {
		if v := getenv(key); v != "" {
			if n, err := strconv.Atoi(v); err != nil || n < 1 {
				return fmt.Errorf("%s=%q is not a positive integer", key, v)
			}
		}
	}
	if v := getenv("WHEREABOUTS_GROUP_COMMIT_DELAY"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d < 0 {
			return fmt.Errorf("WHEREABOUTS_GROUP_COMMIT_DELAY=%q is not a duration like 2ms", v)
		}
	}
	if v := getenv("WHEREABOUTS_POLL_TIMEOUT"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			return fmt.Errorf("WHEREABOUTS_POLL_TIMEOUT=%q is not a positive duration like 25s", v)
		}
	}
	if c.PollTimeout <= 0 {
		return errors.New("the poll timeout must be positive")
	}
	if c.Commit.MaxRows < 1 || c.Commit.Shards < 1 || c.Commit.MaxDelay < 0 {
		return errors.New("group commit rows and shards must be at least 1, the delay not negative")
	}
	return nil
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

func envBool(getenv func(string) string, key string, def bool) (bool, error) {
	v, ok := lookup(getenv, key)
	if !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, fmt.Errorf("%s=%q is not true or false", key, v)
	}
	return b, nil
}

func (c config) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
