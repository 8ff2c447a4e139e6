package main

import (
	"cmp"
	"context"
	"fmt"
	"io"

	schema "whereabouts/sql"
)

// migrateCommand runs `whereabouts migrate up|down|version` against the
// configured or embedded database.
func migrateCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, err := parseConfig("migrate", args, getenv, stdout)
	if err != nil {
		return err
	}
	log := c.logger(stdout)
	dsn, stop, err := database(ctx, c, log)
	if err != nil {
		return err
	}
	defer stop()
	dsn = sessionDSN(c, dsn)
	action := ""
	if len(c.Args) > 0 {
		action = c.Args[0]
	}
	switch action {
	case "up":
		return schema.Up(ctx, dsn)
	case "down":
		return schema.Down(ctx, dsn)
	case "version":
		v, dirty, err := schema.Version(ctx, dsn)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "version %d dirty %v\n", v, dirty)
		return nil
	default:
		return fmt.Errorf("migrate: want up, down or version, not %q", action)
	}
}

// sessionDSN is the URL for work that needs one PostgreSQL session from start
// to end: LISTEN, and migrations (golang-migrate holds a session-level
// advisory lock). Behind PgBouncer in transaction mode the pooled URL would
// run each statement on whichever server connection is free, so LISTEN
// would hear nothing and the lock would stay behind on the connection that
// took it, blocking the next migration; the listen URL reaches PostgreSQL
// directly.
func sessionDSN(c config, dsn string) string { return cmp.Or(c.ListenDatabaseURL, dsn) }
