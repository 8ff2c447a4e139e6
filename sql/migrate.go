// Package sql holds the database schema as numbered golang-migrate
// migrations, embedded in the binary, and the runner that applies them.
package sql

import (
	"context"
	dbsql "database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Up applies every migration not yet applied. Concurrent callers are safe:
// golang-migrate holds an advisory lock while it works.
func Up(ctx context.Context, dsn string) error {
	return run(ctx, dsn, "up", func(m *migrate.Migrate) error { return m.Up() })
}

// Down reverts every migration, leaving an empty schema.
func Down(ctx context.Context, dsn string) error {
	return run(ctx, dsn, "down", func(m *migrate.Migrate) error { return m.Down() })
}

// Version reports the schema version applied and whether a failed migration
// left it dirty. Version 0 means no migration has been applied.
func Version(ctx context.Context, dsn string) (version uint, dirty bool, err error) {
	err = run(ctx, dsn, "version", func(m *migrate.Migrate) error {
		version, dirty, err = m.Version()
		if errors.Is(err, migrate.ErrNilVersion) {
			return nil
		}
		return err
	})
	return version, dirty, err
}

func run(ctx context.Context, dsn, what string, fn func(*migrate.Migrate) error) error {
	// pgxpool's parser: the URL may carry the pool's settings (pool_*),
	// which it takes out; pgx's own would send them to PostgreSQL.
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("sql: %s: parse database url: %w", what, err)
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	defer db.Close()
	m, err := newMigrate(ctx, db)
	if err != nil {
		return fmt.Errorf("sql: %s: %w", what, err)
	}
	defer m.Close()
	stop := context.AfterFunc(ctx, func() { m.GracefulStop <- true })
	defer stop()
	if err := fn(m); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("sql: %s: %w", what, err)
	}
	return nil
}

func newMigrate(ctx context.Context, db *dbsql.DB) (*migrate.Migrate, error) {
	if err := db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	src, err := iofs.New(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open embedded migrations: %w", err)
	}
	drv, err := migratepgx.WithInstance(db, &migratepgx.Config{})
	if err != nil {
		return nil, fmt.Errorf("open migration driver: %w", err)
	}
	return migrate.NewWithInstance("iofs", src, "pgx5", drv)
}
