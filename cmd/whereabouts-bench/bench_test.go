package main

import (
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// The pure parts only: the benchmark itself is a program (it starts a
// cluster and the server and runs for minutes), never part of go test.

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}, {0.5, time.Millisecond}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("p99 of nothing = %v, want 0", got)
	}
	one := []time.Duration{7 * time.Millisecond}
	if percentile(one, 50) != 7*time.Millisecond || percentile(one, 99) != 7*time.Millisecond {
		t.Error("a single sample is every percentile")
	}
}

// pgbench 15's summary, as printed for a custom script.
const pgbenchOut = `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: /tmp/whbench-1/ingest-c32.pgbench
scaling factor: 1
query mode: prepared
number of clients: 32
number of threads: 2
maximum number of tries: 1
duration: 15 s
number of transactions actually processed: 34521
number of failed transactions: 3 (0.009%)
latency average = 13.896 ms
initial connection time = 25.113 ms
tps = 2302.798290 (without initial connection time)
`

// The rate is that of the progress reports after the warm-up (the first
// second is the slowest: new backends, full-page writes after the
// CHECKPOINT), or the summary's when there are none.
func TestParsePgbench(t *testing.T) {
	progress := "progress: 1.0 s, 1000.0 tps, lat 30.1 ms stddev 9.0, 0 failed\n" +
		"progress: 2.0 s, 2200.0 tps, lat 14.5 ms stddev 4.2, 0 failed\n" +
		"progress: 3.0 s, 2400.5 tps, lat 13.3 ms stddev 4.0, 0 failed\n"
	for _, c := range []struct {
		out  string
		warm time.Duration
		want pgbenchResult
	}{
		{pgbenchOut, time.Second, pgbenchResult{TPS: 2302.798290, Failed: 3}},
		{progress + pgbenchOut, time.Second, pgbenchResult{TPS: 2300.25, Failed: 3}},
		{progress + pgbenchOut, 0, pgbenchResult{TPS: 5600.5 / 3, Failed: 3}},
	} {
		r, err := parsePgbench(c.out, c.warm)
		if err != nil || r != c.want {
			t.Errorf("warm %v: got %+v, %v; want %+v", c.warm, r, err, c.want)
		}
	}
	if _, err := parsePgbench("pgbench: error: connection to server failed\n", 0); err == nil {
		t.Error("output without a tps line parsed")
	}
}

func TestTable(t *testing.T) {
	lat := []time.Duration{time.Millisecond, 2 * time.Millisecond, 30 * time.Millisecond}
	ingest := newRow("ingest", 32, "req/s", loadResult{Requests: 3, Units: 12500, Elapsed: time.Second, Lat: lat})
	ingest.Ceiling, ingest.CeilNote, ingest.Target = 2500, "tps", "≥ 4x, p99 ≤ 10 ms"
	ingest.judge(ingest.ratio() >= 4 && ingest.P99 <= 10*time.Millisecond)
	nearby := row{Run: "nearby | k=10", Clients: 8, Unit: "req/s", NA: "not available", Ceiling: 4771.4, CeilNote: "tps", Percent: true}
	got := markdownTable(tableHeader, [][]string{ingest.cells(), nearby.cells()})
	want := "| run | clients | Whereabouts over HTTP | latency p50 / p99 / max | errors | pgbench ceiling (same SQL, same clients) | ratio | target | met |\n" +
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n" +
		"| ingest | 32 | 12,500 req/s | 2.00 / 30.0 / 30.0 ms | 0 | 2,500 tps | 5.00x | ≥ 4x, p99 ≤ 10 ms | no |\n" +
		"| nearby \\| k=10 | 8 | not available | – | – | 4,771 tps | – | – | – |\n"
	if got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	nearby.NA, nearby.Rate = "", 3500
	nearby.judge(nearby.ratio() >= 0.7)
	if c := nearby.cells(); c[6] != "73%" || c[8] != "yes" {
		t.Errorf("nearby ratio %q met %q, want 73%% yes", c[6], c[8])
	}
	nearby.Errors = 1
	nearby.judge(true)
	if nearby.Met != "no" {
		t.Error("a run with errors met its target")
	}
}

func TestFormatting(t *testing.T) {
	for v, want := range map[float64]string{0: "0.0", 14.94: "14.9", 100: "100", 999.6: "1,000", 1234567: "1,234,567", 30000: "30,000"} {
		if got := grouped(v); got != want {
			t.Errorf("grouped(%v) = %q, want %q", v, got, want)
		}
	}
	if got := commandLine("/tmp/go-build123/b001/exe/whereabouts-bench", []string{"-duration", "5s", "-runs", "ingest,batch"}); got != "go run ./cmd/whereabouts-bench -duration 5s -runs ingest,batch" {
		t.Errorf("go run command line: %q", got)
	}
	if got := commandLine("./bench", []string{"-server-bin", "/a b/it's"}); got != `./bench -server-bin '/a b/it'\''s'` {
		t.Errorf("quoted command line: %q", got)
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.People != 100000 || o.Phones != 10000 || len(o.Clients) != 2 || o.Clients[1] != 128 || o.Duration != 15*time.Second || len(o.Runs) != 3 {
		t.Errorf("defaults: %+v", o)
	}
	o, err = parseOptions([]string{"-clients", "8", "-runs", "nearby", "-duration", "5s"}, io.Discard)
	if err != nil || o.Clients[0] != 8 || !o.has("nearby") || o.has("ingest") {
		t.Errorf("flags: %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-clients", "0"}, {"-clients", "a"}, {"-runs", "fan-out"}, {"-duration", "500ms"}, {"-people", "5"}, {"-phones", "-1"}, {"-people", "50", "-batch-size", "10", "-phones", "51"}, {"-server-procs", "-1"}, {"extra"}} {
		if _, err := parseOptions(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestServerEnv(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"PATH": "/bin", "GOMAXPROCS": "8", "WHEREABOUTS_ADDR": ":1"}[k]
	}
	base := []string{"PATH=/bin", "HOME=", "WHEREABOUTS_ADMIN_TOKEN=t", "WHEREABOUTS_DATA_DIR=/d/server-data"}
	if got := serverEnv("t", "/d", 0, getenv); !slices.Equal(got, base) {
		t.Errorf("procs 0: %q, want %q", got, base)
	}
	if got, want := serverEnv("t", "/d", 1, getenv), append(base, "GOMAXPROCS=1"); !slices.Equal(got, want) {
		t.Errorf("procs 1: %q, want %q", got, want)
	}
	if got := serverProcsText(1); got != "GOMAXPROCS=1" {
		t.Errorf("report of procs 1: %q", got)
	}
	if got := serverProcsText(0); got != "Go's default GOMAXPROCS (one per core)" {
		t.Errorf("report of procs 0: %q", got)
	}
}

func TestProcFiles(t *testing.T) {
	status := []byte("Name:\twhereabouts\nVmPeak:\t 1000 kB\nVmHWM:\t   88372 kB\nVmRSS:\t 80000 kB\n")
	if n, err := parseStatusKB(status, "VmHWM"); err != nil || n != 88372*1024 {
		t.Errorf("VmHWM = %d, %v", n, err)
	}
	if n, err := parseStatusKB(status, "VmRSS"); err != nil || n != 80000*1024 {
		t.Errorf("VmRSS = %d, %v", n, err)
	}
	if _, err := parseStatusKB([]byte("Name:\tx\n"), "VmHWM"); err == nil {
		t.Error("status without VmHWM parsed")
	}
	if got := cpuModel("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"); got != "AMD EPYC 7B13" {
		t.Errorf("cpu model %q", got)
	}
	if got := memTotal("MemTotal:       24684084 kB\nMemFree: 1 kB\n"); got != 24684084*1024 {
		t.Errorf("MemTotal %d", got)
	}
}

func TestScripts(t *testing.T) {
	c := defaultCity
	// 20 km each way from the centre.
	if math.Abs(c.DLat*111320-20000) > 1 || math.Abs(c.DLon*111320*math.Cos(c.Lat*math.Pi/180)-20000) > 1 {
		t.Errorf("city %+v is not 40 km across", c)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		lat, lon := c.point(r)
		if math.Abs(lat-c.Lat) > c.DLat || math.Abs(lon-c.Lon) > c.DLon {
			t.Fatalf("point %v,%v outside the city", lat, lon)
		}
	}
	for people, size := range map[int]int{100000: 1000, 2000: 1000, 1000: 1000, 1001: 7} {
		step, seen := stride(people, size), map[int]bool{}
		for k := range size {
			id := 1 + (people-1+k*step)%people
			if seen[id] || id < 1 || id > people {
				t.Fatalf("stride(%d, %d) = %d repeats or leaves the range at id %d", people, size, step, id)
			}
			seen[id] = true
		}
	}
	s := ingestScript(100000, c)
	for _, want := range []string{`\set id random(1, 100000)`, "BEGIN;", "INSERT INTO location_history", "version = p.version + 1", "COMMIT;"} {
		if !strings.Contains(s, want) {
			t.Errorf("ingest script lacks %q:\n%s", want, s)
		}
	}
	if s := batchScript(100000, 1000, c); !strings.Contains(s, `% 100000) AS ids`) || !strings.Contains(s, "generate_series(0, 999)") || strings.Contains(s, "%!") {
		t.Errorf("batch script:\n%s", s)
	}
}

func TestIdleHelpers(t *testing.T) {
	metrics := "# HELP whereabouts_stream_subscribers_other x\nwhereabouts_stream_subscribers_other 7\n" +
		"# TYPE whereabouts_stream_subscribers gauge\nwhereabouts_stream_subscribers{transport=\"websocket\"} 10000\n"
	if v, err := parseGauge(strings.NewReader(metrics), "whereabouts_stream_subscribers"); err != nil || v != 10000 {
		t.Errorf("gauge = %v, %v", v, err)
	}
	if v, err := parseGauge(strings.NewReader("up 1\n"), "up"); err != nil || v != 1 {
		t.Errorf("unlabelled gauge = %v, %v", v, err)
	}
	if _, err := parseGauge(strings.NewReader(metrics), "go_goroutines"); err == nil {
		t.Error("missing gauge parsed")
	}
	r := idleResult{Wanted: 4, Opened: 4, Before: 10 << 20, After: 10<<20 + 4*6000}
	if r.perSubscriber() != 6000 {
		t.Errorf("per subscriber %v", r.perSubscriber())
	}
	if (idleResult{}).perSubscriber() != 0 {
		t.Error("no subscribers, yet a figure")
	}
	row := row{Run: "idle", Clients: 4, Figure: "6,000 bytes server RSS each", Target: "≤ 8 KB"}
	row.judge(r.perSubscriber() <= idleTarget)
	if c := row.cells(); c[2] != "6,000 bytes server RSS each" || c[3] != "–" || c[6] != "–" || c[8] != "yes" {
		t.Errorf("idle cells %q", c)
	}
	o, err := parseOptions([]string{"-runs", "idle", "-idle-subscribers", "50"}, io.Discard)
	if err != nil || !o.has("idle") || o.IdleSubscribers != 50 {
		t.Errorf("idle flags: %+v, %v", o, err)
	}
	if o, _ := parseOptions(nil, io.Discard); o.has("idle") || o.IdleSubscribers != 10000 {
		t.Errorf("idle is a default run or the default count changed: %+v", o)
	}
	if _, err := parseOptions([]string{"-idle-subscribers", "0"}, io.Discard); err == nil {
		t.Error("-idle-subscribers 0 accepted")
	}
	if o, _ := parseOptions(nil, io.Discard); !slices.Equal(o.IdleTransports, []string{"ws", "sse"}) {
		t.Errorf("idle transports by default: %q, want ws and sse", o.IdleTransports)
	}
	if o, err := parseOptions([]string{"-idle-transports", "sse"}, io.Discard); err != nil || !slices.Equal(o.IdleTransports, []string{"sse"}) {
		t.Errorf("-idle-transports sse: %q, %v", o.IdleTransports, err)
	}
	if _, err := parseOptions([]string{"-idle-transports", "poll"}, io.Discard); err == nil {
		t.Error("-idle-transports poll accepted")
	}
}

// A phase's slices add up to one row: the HTTP rate is all units over all
// measured time, pgbench's the mean of equal slices, latencies pooled.
func TestSlicesMerge(t *testing.T) {
	a := loadResult{Requests: 10, Units: 10, Elapsed: time.Second, Lat: []time.Duration{3, 1}}
	b := loadResult{Requests: 30, Units: 30, Errors: 1, FirstErr: "500: x", Elapsed: time.Second, Lat: []time.Duration{2}}
	m := loadResult{}.merge(a).merge(b)
	if m.rate() != 20 || m.Errors != 1 || m.FirstErr != "500: x" || !slices.Equal(m.Lat, []time.Duration{1, 2, 3}) {
		t.Fatalf("merged %+v, rate %v", m, m.rate())
	}
	pg := mergePgbench([]pgbenchResult{{TPS: 100, Failed: 1}, {TPS: 300}})
	if pg.TPS != 200 || pg.Failed != 1 {
		t.Fatalf("merged pgbench %+v", pg)
	}
	for _, c := range []struct {
		dur    time.Duration
		slices int
		want   time.Duration
	}{{15 * time.Second, 3, 5 * time.Second}, {5 * time.Second, 3, 2 * time.Second}, {time.Second, 3, time.Second}, {10 * time.Second, 1, 10 * time.Second}} {
		if got := (options{Duration: c.dur, Slices: c.slices}).slice(); got != c.want {
			t.Errorf("%v in %d slices: %v each, want %v", c.dur, c.slices, got, c.want)
		}
	}
}
