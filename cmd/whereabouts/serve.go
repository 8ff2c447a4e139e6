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

	"github.com/jackc/pgx/v5"

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
		if err := schema.Up(ctx, dsn); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	listenCfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("listener: parse database url: %w", err)
	}
	hub := notify.NewHub(notify.HubConfig{Log: log})
	listener := &notify.Listener{ConnConfig: listenCfg, Hub: hub, Source: st, Log: log}
	ws := &notify.WebSocket{Hub: hub, Source: st, Log: log}
	srv := api.New(api.Config{
		AdminToken: token, DevicesSeeOthers: c.DevicesSeeOthers,
		TileURL: c.TileURL, TileAttribution: c.TileAttribution,
	}, st, ws, listener.Ready, log)
	return serveUntilDone(ctx, c, ln, srv.Handler(), hub, listener, log, stdout, token)
}

func serveUntilDone(ctx context.Context, c config, ln net.Listener, h http.Handler, hub *notify.Hub,
	listener *notify.Listener, log *slog.Logger, stdout io.Writer, token string) error {
	httpSrv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	bg, cancelBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := listener.Run(bg); err != nil {
			log.Error("listener stopped", "err", err)
		}
	})
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "whereabouts: listening on %s\n", url)
	if c.Simulate > 0 {
		wg.Go(func() {
			cfg := simConfig{BaseURL: url, Token: token, People: c.Simulate}
			if err := runSimulator(bg, cfg, log.With("component", "simulate")); err != nil {
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
	hub.Close() // WebSocket clients are hijacked: Shutdown does not see them
	if serr := httpSrv.Shutdown(shutdownCtx); serr != nil {
		log.Warn("shutdown", "err", serr)
	}
	cancelBG()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
