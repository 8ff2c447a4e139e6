// Command whereabouts-bench measures Whereabouts against the PostgreSQL
// ceiling: it starts a private PostGIS cluster and the server, seeds people,
// drives HTTP load from keep-alive clients, runs pgbench on the very same SQL
// at the same concurrency, and prints one markdown table with both side by
// side, the machine and the exact command.
//
//	go run ./cmd/whereabouts-bench [-people 100000] [-clients 32,128] [-duration 15s] [-runs ingest,batch,nearby]
//	go run ./cmd/whereabouts-bench -runs idle [-idle-subscribers 10000]
//	go run ./cmd/whereabouts-bench -runs fanout -people 1000 [-fanout A,B,C] [-fanout-transports ws,sse]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "whereabouts-bench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	People        int
	Phones        int           // the ingest runs move people 1..Phones, each with its own device token
	Clients       []int         // concurrent clients of the single-position ingest run
	Duration      time.Duration // measured per phase and side, in Slices interleaved slices
	Slices        int
	Runs          []string // ingest, batch, nearby, idle, fanout
	Keep          bool
	ServerBin     string
	ServerProcs   int // the server's GOMAXPROCS; 0: Go's default
	BatchClients  int
	BatchSize     int
	NearbyClients int
	// IdleSubscribers is the number of silent subscribers of the idle run,
	// for each of IdleTransports.
	IdleSubscribers int
	IdleTransports  []string
	// Fanout lists the fan-out scenarios, each run over every transport of
	// FanoutTransports for FanoutDuration after a warm-up.
	Fanout           []fanoutScenario
	FanoutTransports []string
	FanoutDuration   time.Duration
}

// maxFanoutPeople bounds -people for the fan-out run: every subscriber that
// watches everyone first reads a snapshot of every person.
const maxFanoutPeople = 20000

// allRuns are the default runs; knownRuns adds those run only on request.
var (
	allRuns   = []string{"ingest", "batch", "nearby"}
	knownRuns = append(slices.Clone(allRuns), "idle", "fanout")
)

func parseOptions(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("whereabouts-bench", flag.ContinueOnError)
	fs.SetOutput(out)
	var o options
	clients := fs.String("clients", "32,128", "concurrent HTTP clients of the single-position ingest run, comma-separated")
	runs := fs.String("runs", strings.Join(allRuns, ","), "which runs: ingest, batch, nearby, idle, fanout (comma-separated; idle and fanout are never defaults)")
	fs.IntVar(&o.People, "people", 100000, "people seeded once, for every run")
	fs.IntVar(&o.Phones, "phones", 0, "phones of the single-position ingest run: people 1..phones, each sending with its own device token (default 10000, or -people if fewer)")
	fs.DurationVar(&o.Duration, "duration", 15*time.Second, "length of each measured phase (HTTP and pgbench each)")
	fs.IntVar(&o.Slices, "slices", 3, "interleaved pgbench and HTTP slices a phase is measured in (each -duration/-slices long, in whole seconds)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (cluster data, logs, pgbench scripts)")
	fs.StringVar(&o.ServerBin, "server-bin", "", "whereabouts binary to benchmark (default: go build ./cmd/whereabouts)")
	fs.IntVar(&o.ServerProcs, "server-procs", 0, "the server's GOMAXPROCS (default: Go's, one per core)")
	fs.IntVar(&o.BatchClients, "batch-clients", 4, "concurrent clients of the batch run")
	fs.IntVar(&o.BatchSize, "batch-size", 1000, "positions per batch request")
	fs.IntVar(&o.NearbyClients, "nearby-clients", 8, "concurrent clients of the nearby run")
	fs.IntVar(&o.IdleSubscribers, "idle-subscribers", 10000, "silent subscribers of the idle run, per transport")
	idleTransports := fs.String("idle-transports", "ws,sse", "idle run transports: ws (/api/v1/stream), sse (/api/v1/events)")
	fanout := fs.String("fanout", "A,B", "fan-out scenarios: A (1,000 subscribers, everyone, 500 updates/s), B (100, 2,000/s), C (1,000 bbox subscribers of a tenth of the city, 5,000/s), or SUBS@RATE[/bbox]")
	transports := fs.String("fanout-transports", "ws,sse", "fan-out transports: ws (/api/v1/stream), sse (/api/v1/events; skipped while the server answers 404)")
	fs.DurationVar(&o.FanoutDuration, "fanout-duration", 10*time.Second, "measured length of each fan-out phase, after a warm-up")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var err error
	if o.Clients, err = parseInts(*clients); err != nil {
		return o, fmt.Errorf("-clients: %w", err)
	}
	if o.Fanout, err = parseScenarios(*fanout); err != nil {
		return o, fmt.Errorf("-fanout: %w", err)
	}
	if o.FanoutTransports, err = parseTransports(*transports); err != nil {
		return o, fmt.Errorf("-fanout-transports: %w", err)
	}
	if o.IdleTransports, err = parseTransports(*idleTransports); err != nil {
		return o, fmt.Errorf("-idle-transports: %w", err)
	}
	for _, r := range strings.Split(*runs, ",") {
		r = strings.TrimSpace(r)
		if !slices.Contains(knownRuns, r) {
			return o, fmt.Errorf("-runs: unknown run %q (want ingest, batch, nearby, idle or fanout)", r)
		}
		o.Runs = append(o.Runs, r)
	}
	if o.Phones == 0 {
		o.Phones = min(10000, o.People)
	}
	switch {
	case o.Duration < time.Second:
		return o, errors.New("-duration must be at least 1s (pgbench counts whole seconds)")
	case o.Slices < 1:
		return o, errors.New("-slices must be positive")
	case o.BatchSize < 1 || o.BatchSize > 10000:
		return o, errors.New("-batch-size must be within 1..10000 (the API's batch limit)")
	case o.People < o.BatchSize || o.People < 10:
		return o, fmt.Errorf("-people must be at least 10 and at least -batch-size (%d): a batch holds distinct people", o.BatchSize)
	case o.Phones < 1 || o.Phones > o.People:
		return o, fmt.Errorf("-phones must be within 1..-people (%d)", o.People)
	case o.BatchClients < 1 || o.NearbyClients < 1:
		return o, errors.New("-batch-clients and -nearby-clients must be positive")
	case o.ServerProcs < 0:
		return o, errors.New("-server-procs must be 0 (Go's default) or positive")
	case o.IdleSubscribers < 1:
		return o, errors.New("-idle-subscribers must be positive")
	case o.FanoutDuration < time.Second:
		return o, errors.New("-fanout-duration must be at least 1s")
	case o.has("fanout") && o.People > maxFanoutPeople:
		return o, fmt.Errorf("-runs fanout: every subscriber reads a snapshot of all -people (%d); use -people 1000 (at most %d)", o.People, maxFanoutPeople)
	}
	return o, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 250 {
			return nil, fmt.Errorf("%q is not a client count in 1..250", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func (o options) has(run string) bool { return slices.Contains(o.Runs, run) }

// slice is how long each side measures in one slice: pgbench counts whole
// seconds.
func (o options) slice() time.Duration {
	return max(time.Second, (o.Duration / time.Duration(o.Slices)).Round(time.Second))
}

// run is main without the process: flags, setup, the runs, the report, and
// cleanup (also when ctx ends on Ctrl-C).
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o, err := parseOptions(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	started := time.Now()
	b := &bench{opts: o, getenv: getenv, progress: os.Stderr}
	// Before any child starts, so the server inherits it: the idle run holds
	// thousands of connections on both ends.
	if b.fdLimit, err = raiseFileLimit(); err != nil {
		b.notes = append(b.notes, "RLIMIT_NOFILE not raised: "+err.Error())
	}
	defer b.cleanup()
	if err := b.setup(ctx); err != nil {
		return err
	}
	phases := plan(o)
	if len(phases) > 0 {
		// One LISTEN connection counts the phases' notifications. Only
		// they need it: in the idle and fan-out runs it would be a second
		// PostgreSQL backend reading every notification, which a server
		// instance alone does not have.
		if err := b.startCounter(ctx); err != nil {
			return err
		}
	}
	rows, rss, err := b.measure(ctx, phases)
	if err != nil {
		return err
	}
	b.stopCounter()
	var idle []idleResult
	for _, t := range o.IdleTransports {
		if !o.has("idle") {
			break
		}
		r, res, err := b.idleRun(ctx, idleTransports[t])
		if err != nil {
			return err
		}
		rows, idle = append(rows, r), append(idle, res)
		if peak, err := b.srv.peakRSS(); err == nil {
			rss = max(rss, peak)
		}
		if err := b.stopServer(); err != nil {
			return err
		}
	}
	var fanout []fanoutResult
	if o.has("fanout") {
		if fanout, err = b.fanoutRun(ctx); err != nil {
			return err
		}
	}
	rep := report{
		Command: commandLine(os.Args[0], args), Machine: b.machine, Opts: o, Rows: rows,
		HTTP: b.http, PG: b.pg, Counted: o.has("ingest") || o.has("batch"), Phases: len(phases) > 0,
		PeakRSS: rss, Idle: idle, Fanout: fanout, Elapsed: time.Since(started), Notes: b.notes,
	}
	rep.write(stdout)
	return nil
}
