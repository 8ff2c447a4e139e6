package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// row is one line of the results table: the server's figure next to the
// pgbench ceiling of the same SQL at the same concurrency.
type row struct {
	Run           string
	Clients       int
	Rate          float64 // server throughput in Unit
	Unit          string
	P50, P99, Max time.Duration
	Errors        int
	FirstErr      string
	NA            string  // non-empty: no server figure, and why
	Figure        string  // non-empty: the server figure as text, no rate or latency (idle run)
	Ceiling       float64 // pgbench, in Unit; 0: not measured
	CeilNote      string  // pgbench's unit (and tps when it differs)
	Percent       bool    // show the ratio as a percentage
	Target        string
	Met           string // yes, no, or empty when the run has no target
}

func newRow(run string, clients int, unit string, res loadResult) row {
	return row{Run: run, Clients: clients, Unit: unit, Rate: res.rate(),
		P50: percentile(res.Lat, 50), P99: percentile(res.Lat, 99), Max: percentile(res.Lat, 100),
		Errors: res.Errors, FirstErr: res.FirstErr}
}

func (r row) ratio() float64 {
	if r.Ceiling <= 0 || r.NA != "" {
		return 0
	}
	return r.Rate / r.Ceiling
}

// judge records whether the target was met; a run with errors never meets it.
func (r *row) judge(ok bool) {
	r.Met = "no"
	if ok && r.Errors == 0 {
		r.Met = "yes"
	}
}

var tableHeader = []string{"run", "clients", "Whereabouts over HTTP", "latency p50 / p99 / max", "errors",
	"pgbench ceiling (same SQL, same clients)", "ratio", "target", "met"}

func (r row) cells() []string {
	server, lat, errs, ratio := "", "", fmt.Sprint(r.Errors), "–"
	if r.NA != "" {
		server, lat, errs = r.NA, "–", "–"
	} else if r.Figure != "" {
		server, lat = r.Figure, "–"
	} else {
		server = grouped(r.Rate) + " " + r.Unit
		lat = fmt.Sprintf("%s / %s / %s ms", ms(r.P50), ms(r.P99), ms(r.Max))
	}
	ceiling := "not measured"
	if r.Figure != "" {
		ceiling = "–"
	}
	if r.Ceiling > 0 {
		ceiling = grouped(r.Ceiling) + " " + r.CeilNote
		if r.NA == "" && r.Percent {
			ratio = fmt.Sprintf("%.0f%%", 100*r.ratio())
		} else if r.NA == "" {
			ratio = fmt.Sprintf("%.2fx", r.ratio())
		}
	}
	return []string{r.Run, fmt.Sprint(r.Clients), server, lat, errs, ceiling, ratio, or(r.Target, "–"), or(r.Met, "–")}
}

// markdownTable renders rows with a header and aligned pipes.
func markdownTable(header []string, rows [][]string) string {
	var sb strings.Builder
	line := func(cells []string) {
		sb.WriteString("|")
		for _, c := range cells {
			sb.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		sb.WriteString("\n")
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
	return sb.String()
}

// grouped formats a rate with thousands separators: 12345.6 -> "12,346";
// below 100 it keeps one decimal.
func grouped(v float64) string {
	if v < 100 {
		return fmt.Sprintf("%.1f", v)
	}
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// ms formats a duration in milliseconds with precision that suits it.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

var plainArg = regexp.MustCompile(`^[A-Za-z0-9_./,=:+@%-]+$`)

// commandLine is the invocation as the user typed it; a binary that `go run`
// built in a temporary directory is shown as `go run`.
func commandLine(argv0 string, args []string) string {
	parts := []string{argv0}
	if strings.Contains(argv0, "go-build") {
		parts = []string{"go", "run", "./cmd/whereabouts-bench"}
	}
	for _, a := range args {
		if !plainArg.MatchString(a) {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// report is everything printed at the end.
type report struct {
	Command  string
	Machine  machine
	Opts     options
	Rows     []row
	HTTP, PG tally // notifications and moves
	Counted  bool
	Phases   bool // any HTTP-versus-pgbench row (not only the idle run)
	PeakRSS  int64
	Idle     []idleResult // one per transport of the idle run
	Fanout   []fanoutResult
	Elapsed  time.Duration
	Notes    []string
}

func (rep report) write(w io.Writer) {
	o, m := rep.Opts, rep.Machine
	var rows [][]string
	for _, r := range rep.Rows {
		rows = append(rows, r.cells())
	}
	fmt.Fprintf(w, "\n## Whereabouts benchmark\n\n")
	if len(rows) > 0 {
		fmt.Fprintf(w, "%s\n", markdownTable(tableHeader, rows))
	}
	if rep.Counted {
		fmt.Fprintf(w, "- Notifications (runs 1-2, a separate LISTEN connection on person_updated; moves = sum of version increases): HTTP notified %d of %d committed moves; pgbench notified %d of %d.\n",
			rep.HTTP.notified, rep.HTTP.moves, rep.PG.notified, rep.PG.moves)
	}
	if rep.PeakRSS > 0 {
		fmt.Fprintf(w, "- Server peak RSS (VmHWM, one server per row, the largest): %.1f MiB.\n", float64(rep.PeakRSS)/(1<<20))
	}
	for _, r := range rep.Idle {
		r.write(w)
	}
	for _, r := range rep.Rows {
		if r.FirstErr != "" {
			fmt.Fprintf(w, "- First error, %s at %d clients: %s\n", r.Run, r.Clients, r.FirstErr)
		}
	}
	fmt.Fprintf(w, "- Machine: nproc %d, %s, %.1f GiB RAM, Linux %s (load average %s before the run); Go %s (server built with %s); PostgreSQL %s, PostGIS %s; %s.\n",
		m.NProc, m.CPU, float64(m.MemBytes)/(1<<30), m.Kernel, or(m.LoadAvg, "unknown"), m.GoVersion, m.ServerGo, m.Postgres, m.PostGIS, m.Pgbench)
	fmt.Fprintf(w, "- Database: a private cluster started by the bench, production-like durability: %s; CHECKPOINT before each measured slice (and VACUUM of person and location_history before each fan-out phase). Server: `whereabouts serve` with default group commit settings, %s.\n",
		strings.Join(clusterSettings, ", "), serverProcsText(o.ServerProcs))
	fmt.Fprintf(w, "- Data: %s people seeded once for all runs, uniform over 40 km x 40 km around 52.37,4.89 (a fix an hour old each); every position and query point of HTTP clients and pgbench is drawn from the same square.\n",
		grouped(float64(o.People)))
	if rep.Phases {
		rep.writeLoad(w)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "- Note: %s\n", n)
	}
	fmt.Fprintf(w, "- Command: `%s` (whole run %s).\n", rep.Command, rep.Elapsed.Round(time.Second))
	rep.writeFanout(w)
}

// writeLoad says how the HTTP-versus-pgbench rows were measured.
func (rep report) writeLoad(w io.Writer) {
	o, m := rep.Opts, rep.Machine
	slice := o.slice()
	fmt.Fprintf(w, "- Load: each row is %d pairs of slices, interleaved so that the host's drift weighs on both sides alike: first pgbench while the row's server idles, `%s`, its rate the mean of the progress reports after the first %s; then that server (started once a row, so its caches are warm after the first slice, as in a running instance) under HTTP load for %s (after an unmeasured %s warm-up), its keep-alive clients (one plain HTTP/1.1 connection each, requests written as bytes) in the bench process sharing the %d cores with the server and PostgreSQL. Single-position ingest: each request is a random one of %s phones (people 1..%[7]s, pgbench draws the same ids) moving its own person with its own device token, as the apps do; batches and queries use the admin token. Both sides feed two LISTEN connections: the counter and the server's own listener.\n",
		o.Slices, pgbenchCommand(warmupFor(slice), slice), warmupFor(slice), slice, warmupFor(slice), m.NProc, grouped0(int64(o.Phones)))
	fmt.Fprintf(w, "- pgbench scripts (kept with -keep): ingest = the history INSERT and the person UPDATE of store/locations.go as single-row statements (seen_at set in the UPDATE, RETURNING as the server reads) in one transaction sent as one pipeline, notify trigger on; "+
		"batch = the server's transaction: BEGIN, its one statement over unnest arrays (lock, history INSERT, UPDATE, last seen; test-checked against store/locations.go) for %d distinct people in id order, COMMIT, the arrays drawn by a SELECT before the transaction; "+
		"nearby = store.Nearby's statement (store/query_nearby.go, no filters, k=10 as a parameter).\n", o.BatchSize)
}

// write prints the idle run's figure and how it was taken.
func (r idleResult) write(w io.Writer) {
	counted := "not read"
	if r.Subscribers >= 0 {
		counted = grouped(float64(r.Subscribers))
	}
	target := ", target ≤ 8 KB"
	if r.Transport.Metric != "websocket" {
		target = " (no target)"
	}
	fmt.Fprintf(w, "- Idle memory: %s bytes (%.2f KiB) of server RSS per idle %s subscriber%s. How: a fresh server; its VmRSS (/proc/<pid>/status) %.1f MiB before; %s of %s %s connections opened on loopback to `%s?ids=1` ("+fmt.Sprint(dialers)+" dialers, %s; each read its %d-byte snapshot, then no reads or writes, no goroutine per connection in the bench); after %s silent, VmRSS %.1f MiB; (after − before) / opened. The server counted %s subscribers (whereabouts_stream_subscribers); its goroutine count is not exported. No GC forced. RLIMIT_NOFILE %d for the bench and the server.\n",
		grouped(r.perSubscriber()), r.perSubscriber()/1024, r.Transport.Name, target, float64(r.Before)/(1<<20),
		grouped(float64(r.Opened)), grouped(float64(r.Wanted)), r.Transport.Name, r.Transport.Path, r.OpenTime.Round(time.Millisecond), r.SnapshotBytes,
		idleWait, float64(r.After)/(1<<20), counted, r.FDLimit)
}

func serverProcsText(procs int) string {
	if procs == 0 {
		return "Go's default GOMAXPROCS (one per core)"
	}
	return fmt.Sprintf("GOMAXPROCS=%d", procs)
}
