package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// idleTarget is issue 5's bound: 8 KB of server RSS per idle subscriber
// (taken as 8 KiB).
const idleTarget = 8 << 10

// idleWait is how long the subscribers sit silent before RSS is read again.
const idleWait = 3 * time.Second

// idleResult is the idle run of one transport: the server's resident set
// before and after N subscribers connected, read their snapshot and went
// silent.
type idleResult struct {
	Transport      idleTransport
	Wanted, Opened int
	Failed         int
	FirstErr       string
	Before, After  int64         // server VmRSS, bytes
	OpenTime       time.Duration // to open all connections and read each snapshot
	SnapshotBytes  int           // size of one snapshot message
	Subscribers    int64         // the server's whereabouts_stream_subscribers after the wait; -1: not read
	FDLimit        uint64        // RLIMIT_NOFILE of the bench (and so of the server)
}

// perSubscriber is (after - before) / opened, in bytes.
func (r idleResult) perSubscriber() float64 {
	if r.Opened == 0 {
		return 0
	}
	return float64(r.After-r.Before) / float64(r.Opened)
}

// raiseFileLimit lifts RLIMIT_NOFILE's soft limit to the hard limit. Go
// raises it for itself at start but restores the old one for children,
// unless the program calls Setrlimit itself: after this, the server the
// bench starts inherits the high limit too.
func raiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	return l.Cur, nil
}

// idleTransport is how the idle run subscribes: a stream path and what the
// server's metrics call the transport.
type idleTransport struct {
	Name, Path, Metric string
}

var idleTransports = map[string]idleTransport{
	"ws":  {"WebSocket", "/api/v1/stream", "websocket"},
	"sse": {"SSE", "/api/v1/events", "sse"},
}

// idleRun starts a fresh server, opens IdleSubscribers streams of one
// transport filtered to person 1 (so each snapshot is tiny), reads each
// snapshot and then leaves every connection silent: no reader goroutine in
// the bench, no messages either way. It reads the server's VmRSS before and
// idleWait after.
func (b *bench) idleRun(ctx context.Context, t idleTransport) (row, idleResult, error) {
	n := b.opts.IdleSubscribers
	res := idleResult{Transport: t, Wanted: n, Subscribers: -1, FDLimit: b.fdLimit}
	b.logf("idle: %d %s subscribers", n, t.Name)
	if err := b.startServer(ctx); err != nil {
		return row{}, res, err
	}
	var err error
	if res.Before, err = b.srv.rss(); err != nil {
		return row{}, res, fmt.Errorf("server RSS: %w", err)
	}
	conns := make([]io.Closer, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	start := time.Now()
	res.Opened, res.Failed, res.FirstErr, res.SnapshotBytes = openIdle(ctx, b.idleDialer(t), conns)
	res.OpenTime = time.Since(start)
	if ctx.Err() != nil {
		return row{}, res, ctx.Err()
	}
	b.logf("  %d open (%d failed) in %s; idle for %s", res.Opened, res.Failed, res.OpenTime.Round(time.Millisecond), idleWait)
	select {
	case <-time.After(idleWait):
	case <-ctx.Done():
		return row{}, res, ctx.Err()
	}
	if res.After, err = b.srv.rss(); err != nil {
		return row{}, res, fmt.Errorf("server RSS: %w", err)
	}
	if v, err := scrapeGauge(ctx, b.srv.url+"/metrics", `whereabouts_stream_subscribers{transport="`+t.Metric+`"}`); err == nil {
		res.Subscribers = int64(v)
	} else {
		b.notes = append(b.notes, "idle: subscriber gauge not read: "+err.Error())
	}
	b.logf("  server RSS %.1f -> %.1f MiB: %.0f bytes per subscriber; server counts %d subscribers",
		float64(res.Before)/(1<<20), float64(res.After)/(1<<20), res.perSubscriber(), res.Subscribers)
	if res.OpenTime > 30*time.Second {
		b.notes = append(b.notes, fmt.Sprintf("idle %s: opening took %s; the server pings (WebSocket) or beats (SSE) every 15-30 s, so early connections may have been written to", t.Name, res.OpenTime.Round(time.Second)))
	}
	r := row{Run: fmt.Sprintf("idle %s subscribers: `GET %s?ids=1`, snapshot read, then silent", t.Name, t.Path),
		Clients: res.Opened, Figure: fmt.Sprintf("%s bytes server RSS each", grouped(res.perSubscriber())),
		Errors: res.Failed, FirstErr: res.FirstErr}
	if t.Metric == "websocket" {
		r.Target = "≤ 8 KB (8,192 bytes) each"
		r.judge(res.Opened == n && res.perSubscriber() <= idleTarget)
	}
	return r, res, nil
}

// idleDialer opens one silent stream of t and returns it with the size of
// the snapshot it read.
func (b *bench) idleDialer(t idleTransport) func(ctx context.Context) (io.Closer, int, error) {
	path := t.Path + "?ids=1&access_token=" + b.token
	if t.Metric == "sse" {
		addr := strings.TrimPrefix(b.srv.url, "http://")
		return func(ctx context.Context) (io.Closer, int, error) {
			c, err := dialSSE(ctx, addr, path, time.Now())
			if err != nil {
				return nil, 0, err
			}
			msg, err := c.ReadMessage()
			if err != nil {
				c.Close()
				return nil, 0, fmt.Errorf("snapshot: %w", err)
			}
			return c, len(msg), nil
		}
	}
	d := &websocket.Dialer{
		ReadBufferSize: 256, WriteBufferSize: 256, WriteBufferPool: &sync.Pool{},
		HandshakeTimeout: 10 * time.Second,
	}
	url := "ws" + strings.TrimPrefix(b.srv.url, "http") + path
	return func(ctx context.Context) (io.Closer, int, error) { return dialIdle(ctx, d, url) }
}

// openIdle fills conns with open streams, dialers at a time; each has
// read its first message (the snapshot) and is then left alone. It returns
// how many opened, how many failed, the first error and the size of a
// snapshot.
func openIdle(ctx context.Context, dial func(context.Context) (io.Closer, int, error), conns []io.Closer) (opened, failed int, firstErr string, snapshot int) {
	var nOpen, size atomic.Int64
	failed, firstErr = dialAll(ctx, 0, len(conns), func(i int) error {
		c, n, err := dial(ctx)
		if err != nil {
			return err
		}
		conns[i] = c
		size.Store(int64(n))
		nOpen.Add(1)
		return nil
	})
	return int(nOpen.Load()), failed, firstErr, int(size.Load())
}

func dialIdle(ctx context.Context, d *websocket.Dialer, url string) (io.Closer, int, error) {
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		if resp != nil {
			return nil, 0, fmt.Errorf("%w (%s)", err, resp.Status)
		}
		return nil, 0, err
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, msg, err := c.ReadMessage()
	if err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("snapshot: %w", err)
	}
	c.SetReadDeadline(time.Time{})
	return c, len(msg), nil
}

// scrapeGauge reads one unlabelled-or-labelled sample of a Prometheus text
// exposition.
func scrapeGauge(ctx context.Context, url, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return parseGauge(resp.Body, name)
}

// parseGauge finds the first sample of metric name in Prometheus text.
func parseGauge(r io.Reader, name string) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		if strings.HasPrefix(rest, "{") {
			if i := strings.LastIndexByte(rest, '}'); i >= 0 {
				rest = rest[i+1:]
			}
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		return strconv.ParseFloat(f[0], 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s sample", name)
}
