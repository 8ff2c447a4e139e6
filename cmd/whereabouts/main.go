// Command whereabouts is the live-location tracking service: `serve` runs it,
// `migrate` manages the schema, `simulate` walks demo people around a city.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "whereabouts:", err)
		os.Exit(1)
	}
}

const usage = `usage: whereabouts <command> [flags]

commands:
  serve      run the service (embedded PostgreSQL unless WHEREABOUTS_DATABASE_URL is set)
  migrate    up | down | version: manage the database schema
  simulate   walk demo people around a city through the public API

Run "whereabouts <command> -h" for the flags of a command.`

// run is main without the process: tests call it with their own arguments,
// environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stdout, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serveCommand(ctx, args[1:], getenv, stdout)
	case "migrate":
		return migrateCommand(ctx, args[1:], getenv, stdout)
	case "simulate":
		return simulateCommand(ctx, args[1:], getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		fmt.Fprintln(stdout, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
