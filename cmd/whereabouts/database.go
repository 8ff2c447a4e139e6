package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"whereabouts/pgcluster"
)

// database returns the URL to use: the configured one, or that of the
// embedded cluster, which it starts (creating it on first run). stop shuts
// the embedded cluster down and is a no-op for an external database.
func database(ctx context.Context, c config, log *slog.Logger) (dsn string, stop func(), err error) {
	if c.DatabaseURL != "" {
		return c.DatabaseURL, func() {}, nil
	}
	dir, err := filepath.Abs(c.DataDir)
	if err != nil {
		return "", nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("data dir: %w", err)
	}
	password, _, err := secretFile(filepath.Join(dir, "postgres-password"))
	if err != nil {
		return "", nil, err
	}
	cl, err := pgcluster.New(pgcluster.Config{Dir: filepath.Join(dir, "postgres"), Password: password})
	if err != nil {
		return "", nil, err
	}
	log.Info("starting embedded PostgreSQL", "dir", filepath.Join(dir, "postgres"))
	if err := cl.Start(ctx); err != nil {
		return "", nil, err
	}
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cl.Stop(ctx); err != nil {
			log.Error("stopping embedded PostgreSQL", "err", err)
			return
		}
		log.Info("embedded PostgreSQL stopped")
	}
	if err := cl.EnsureDatabase(ctx, "whereabouts"); err != nil {
		stop()
		return "", nil, err
	}
	log.Info("embedded PostgreSQL ready", "port", cl.Port())
	return cl.DSN("whereabouts"), stop, nil
}

// adminToken is the configured token, or one generated at first start and
// kept in the data directory. created reports that it was just made, so it
// is printed once.
func adminToken(c config) (token string, created bool, err error) {
	if c.AdminToken != "" {
		return c.AdminToken, false, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return "", false, fmt.Errorf("admin token: %w", err)
	}
	return secretFile(filepath.Join(c.DataDir, "admin-token"))
}

// secretFile reads a secret kept in a 0600 file, creating it with 256
// random bits the first time; created says it did.
func secretFile(path string) (secret string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), false, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	secret = base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("write %s: %w", path, err)
	}
	// WriteFile keeps the mode of a file that was already there (empty).
	if err := os.Chmod(path, 0o600); err != nil {
		return "", false, fmt.Errorf("chmod %s: %w", path, err)
	}
	return secret, true, nil
}
