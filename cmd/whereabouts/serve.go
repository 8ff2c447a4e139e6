package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"whereabouts/api"
	"whereabouts/notify"
	schema "whereabouts/sql"
	"whereabouts/store"
)

// serveCommand runs the service until ctx ends (SIGINT/SIGTERM), then drains
// connections and stops what it started, in reverse order.
func serveCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, err := parseConfig("serve", args, getenv, stdout)
	if err != nil {
		return err
	}
	log := c.logger(stdout)
	// Listen first, so a busy port fails before anything else starts.
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	defer ln.Close()
	token, created, err := adminToken(c)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "\nGenerated an admin token (kept in %s/admin-token):\n\n    %s\n\nOpen the map: http://%s/#token=%s\n\n",
			c.DataDir, token, ln.Addr(), token)
	}
	dsn, stopDB, err := database(ctx, c, log)
	if err != nil {
		return err
	}
	defer stopDB()
	if c.Migrate {
		if err := schema.Up(ctx, sessionDSN(c, dsn)); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	// pgxpool's parser takes out the pool's settings (pool_*), which
	// PostgreSQL would refuse as session parameters.
	listenPool, err := pgxpool.ParseConfig(sessionDSN(c, dsn))
	if err != nil {
		return fmt.Errorf("listener: parse database url: %w", err)
	}
	listenCfg := listenPool.ConnConfig
	reads := st
	if c.ReadDatabaseURL != "" {
		if reads, err = store.Open(ctx, c.ReadDatabaseURL); err != nil {
			return fmt.Errorf("read replica: %w", err)
		}
		defer reads.Close()
	}
	hub := notify.NewHub(notify.HubConfig{Log: log})
	listener := &notify.Listener{ConnConfig: listenCfg, Hub: hub, Source: st, Log: log}
	devices := store.NewDeviceCache(st.DeviceByDigest, store.DeviceCacheConfig{Live: listener.Ready})
	listener.Forget = devices
	streams := api.Streams{
		WebSocket: &notify.WebSocket{Hub: hub, Source: st, Log: log},
		Events:    &notify.SSE{Hub: hub, Source: st, Log: log},
		Poll:      &notify.Poll{Hub: hub, Source: st, Log: log, Timeout: c.PollTimeout},
	}
	metrics := api.NewMetrics(prometheus.NewRegistry(), listener, hub, streams, devices)
	commitCfg := c.Commit
	commitCfg.OnFlush = metrics.CommitRows
	commit := st.NewCommitter(commitCfg)
	defer commit.Close() // after the HTTP servers drained: queued fixes still commit
	srv := api.New(api.Config{
		AdminToken: token, DevicesSeeOthers: c.DevicesSeeOthers,
		TileURL: c.TileURL, TileAttribution: c.TileAttribution, Policy: c.Policy,
	}, api.Deps{Store: st, Reads: reads, Commit: commit, Devices: devices, Streams: streams, Ready: listener.Ready, Log: log, Metrics: metrics})
	servers := []served{{ln: ln, handler: srv.Handler()}}
	if c.OsmAndAddr != "" {
		osm, err := net.Listen("tcp", c.OsmAndAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (OsmAnd): %w", c.OsmAndAddr, err)
		}
		defer osm.Close()
		servers = append(servers, served{ln: osm, handler: srv.OsmAndHandler()})
	}
	retention := &store.Retention{Store: st, Keep: c.HistoryRetention, Log: log.With("component", "retention")}
	jobs := []func(context.Context) error{listener.Run, retention.Run}
	return serveUntilDone(ctx, c, servers, hub, jobs, log, stdout, token)
}

// served is one HTTP server to run: the API, or the OsmAnd port.
type served struct {
	ln      net.Listener
	handler http.Handler
}

// serveUntilDone runs the HTTP servers and the background jobs (listener,
// retention) until ctx ends, then shuts down: streams first, then HTTP
// (draining requests), then the jobs.
func serveUntilDone(ctx context.Context, c config, servers []served, hub *notify.Hub,
	jobs []func(context.Context) error, log *slog.Logger, stdout io.Writer, token string) error {
	bg, cancelBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Go(func() {
			if err := job(bg); err != nil {
				log.Error("background job stopped", "err", err)
			}
		})
	}
	serveErr := make(chan error, len(servers))
	var httpSrvs []*http.Server
	for _, sv := range servers {
		httpSrv := &http.Server{
			Handler:           sv.handler,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		httpSrvs = append(httpSrvs, httpSrv)
		go func() { serveErr <- httpSrv.Serve(sv.ln) }()
	}
	url := "http://" + servers[0].ln.Addr().String()
	fmt.Fprintf(stdout, "whereabouts: listening on %s\n", url)
	if len(servers) > 1 {
		fmt.Fprintf(stdout, "whereabouts: OsmAnd/Traccar protocol on http://%s\n", servers[1].ln.Addr())
	}
	// The simulator is a client: it stops before the servers it talks to.
	simCtx, stopSim := context.WithCancel(bg)
	defer stopSim()
	if c.Simulate > 0 {
		wg.Go(func() {
			cfg := simConfig{BaseURL: url, Token: token, People: c.Simulate}
			if err := runSimulator(simCtx, cfg, log.With("component", "simulate")); err != nil {
				log.Error("simulator stopped", "err", err)
			}
		})
	}
	var err error
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		log.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stopSim()
	// Streams end first: WebSocket clients are hijacked, so Shutdown does
	// not see them, and it would wait for SSE and long-polls to end.
	hub.Close()
	for _, httpSrv := range httpSrvs {
		if serr := httpSrv.Shutdown(shutdownCtx); serr != nil {
			log.Warn("shutdown", "err", serr)
		}
	}
	cancelBG()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
