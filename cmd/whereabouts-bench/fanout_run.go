package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"whereabouts/geo"
)

// fanoutResult is one scenario over one transport.
type fanoutResult struct {
	Scenario  fanoutScenario
	Transport string
	NotRun    string // non-empty: not measured, and why

	Connected, Failed int
	FirstErr          string
	ConnectTime       time.Duration // to open every stream and read its snapshot
	SnapshotBytes     int

	PostedRate                   float64 // positions answered inside the window, per second
	WriterErrors                 int
	WriterErr                    string
	DeliveredRate, ExpectedRate  float64 // updates per second, all subscribers
	Delivered, Expected          int64   // whole phase: warm-up, window and drain
	Missing                      int64   // expected - (delivered - stale): versions never seen
	Skipped                      int64   // of them, versions jumped over (everyone filter)
	Stale, Other, Bad            int64
	Lost                         int64 // (subscriber, person) pairs left below the last version they should hold
	Closed                       int   // streams the server ended
	CloseErr                     string
	Drained                      string // non-empty: the drain gave up, why
	Lat                          []time.Duration
	Early, Unmatched             int
	Reads                        int64 // socket reads of all subscribers, snapshots included
	VersionErrs                  int   // people whose database version differs from the writer's count
	ServerCPU, BenchCPU, PeakRSS float64
	MachineCPU                   float64 // cores busy, every process; -1: not read
	LoadAvg                      string
}

func (r fanoutResult) lossFree() bool {
	return r.Failed == 0 && r.Closed == 0 && r.Lost == 0 && r.Missing == 0 && r.WriterErrors == 0 &&
		r.VersionErrs == 0 && r.Unmatched == 0 && r.Bad == 0
}

// met: the latency target, zero loss, and the asked rate really posted.
func (r fanoutResult) met() bool {
	p99 := percentile(r.Lat, 99)
	return r.NotRun == "" && r.Scenario.P99 > 0 && p99 <= r.Scenario.P99 && r.lossFree() &&
		r.PostedRate >= 0.98*float64(r.Scenario.Rate) && len(r.Lat) > 0
}

// fanoutRun measures every scenario over every transport, each on a fresh
// server.
func (b *bench) fanoutRun(ctx context.Context) ([]fanoutResult, error) {
	var out []fanoutResult
	for _, sc := range b.opts.Fanout {
		for _, tr := range b.opts.FanoutTransports {
			r, err := b.fanoutPhase(ctx, sc, tr)
			if err != nil {
				return out, fmt.Errorf("fanout %s over %s: %w", sc.Name, tr, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// movesEach sizes the writer's answer slots: twice each person's share of
// the moves posted in d and the 2 s after it (the overflow map takes more).
func movesEach(rate, people int, d time.Duration) int {
	return 2*rate*int((d+2*time.Second)/time.Second)/max(people, 1) + 8
}

func (b *bench) fanoutPhase(ctx context.Context, sc fanoutScenario, tr string) (fanoutResult, error) {
	res := fanoutResult{Scenario: sc, Transport: tr}
	b.logf("fanout %s over %s: %d subscribers (%s), %d updates/s, %s", sc.Name, tr, sc.Subs, sc.filter(), sc.Rate, b.opts.FanoutDuration)
	// A phase moves its people tens of thousands of times: VACUUM first, so
	// each phase starts alike whatever ran before it (without, the second
	// and third of three C phases in one run were the slow ones).
	if _, err := b.db.Exec(ctx, "VACUUM (ANALYZE) person, location_history"); err != nil {
		return res, fmt.Errorf("vacuum: %w", err)
	}
	if err := b.checkpoint(ctx); err != nil {
		return res, err
	}
	start, err := b.peopleNow(ctx)
	if err != nil {
		return res, err
	}
	if err := b.startServer(ctx); err != nil {
		return res, err
	}
	defer b.stopServer()
	warm, dur := warmupFor(b.opts.FanoutDuration), b.opts.FanoutDuration
	epoch := time.Now()
	w := newFanoutWriter(start, epoch, movesEach(sc.Rate, len(start), warm+dur))
	subs, err := b.openSubs(ctx, sc, tr, len(start), epoch, &res)
	defer closeSubs(subs)
	if errors.Is(err, errNotFound) {
		res.NotRun = fmt.Sprintf("skipped: the server answers 404 at %s (not built yet)", fanoutTransports[tr])
		b.logf("  %s", res.NotRun)
		return res, nil
	} else if err != nil {
		return res, err
	}
	b.logf("  %d streams open (%d failed) in %s", res.Connected, res.Failed, res.ConnectTime.Round(time.Millisecond))

	// The window starts after a warm-up of posting and delivering.
	begin := int64(time.Since(epoch))
	win := span{from: begin + int64(warm), to: begin + int64(warm+dur)}
	var stopping atomic.Bool
	var readers sync.WaitGroup
	for _, s := range subs {
		readers.Go(func() { s.read(w, win, &stopping) })
	}
	defer func() {
		stopping.Store(true)
		closeSubs(subs)
		readers.Wait()
	}()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		w.run(ctx, b.srv.url, b.token, sc.Rate, win.to)
	}()
	cpu, err := b.measureCPU(ctx, epoch, win)
	if err != nil {
		<-writerDone
		return res, err
	}
	<-writerDone
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	res.ServerCPU, res.BenchCPU, res.MachineCPU, res.LoadAvg = cpu.server, cpu.bench, cpu.machine, cpu.load

	log := w.log(start)
	want := make([]int64, len(subs))
	for i, s := range subs {
		want[i] = s.count(log, win).total
	}
	if err := drain(ctx, subs, want, 2*time.Second, 30*time.Second); err != nil {
		if ctx.Err() != nil {
			return res, err
		}
		res.Drained = err.Error()
	}
	stopping.Store(true)
	closeSubs(subs)
	readers.Wait()

	b.tallyFanout(&res, w, subs, log, win)
	if res.VersionErrs, err = b.checkVersions(ctx, w); err != nil {
		return res, err
	}
	if rss, err := b.srv.peakRSS(); err == nil {
		res.PeakRSS = float64(rss)
	}
	p := func(q float64) float64 { return float64(percentile(res.Lat, q)) / float64(time.Millisecond) }
	b.logf("  posted %.0f/s; delivered %.0f/s of %.0f/s expected; p50 %.2f p99 %.2f max %.2f ms; missing %d, lost %d, closed %d; server %.2f cores, bench %.2f cores, machine %.2f cores busy",
		res.PostedRate, res.DeliveredRate, res.ExpectedRate, p(50), p(99), p(100), res.Missing, res.Lost, res.Closed, res.ServerCPU, res.BenchCPU, res.MachineCPU)
	return res, nil
}

// openSubs opens sc.Subs streams, 16 at a time, each with its snapshot
// read. It returns errNotFound if the transport's route does not exist.
func (b *bench) openSubs(ctx context.Context, sc fanoutScenario, tr string, people int, epoch time.Time, res *fanoutResult) ([]*fanoutSub, error) {
	addr := strings.TrimPrefix(b.srv.url, "http://")
	rng := newRand(7)
	expect := int(float64(sc.Rate)*(warmupFor(b.opts.FanoutDuration)+b.opts.FanoutDuration).Seconds()*1.1) + 64
	subs := make([]*fanoutSub, sc.Subs)
	for i := range subs {
		var box *geo.BBox
		path := fanoutTransports[tr] + "?access_token=" + b.token
		if sc.BBox {
			bb := tenthOfCity(defaultCity, rng)
			box, path = &bb, path+"&bbox="+bboxParam(bb)
		}
		per := expect
		if sc.BBox {
			per /= 8 // about a tenth of the moves, and some across the edge
		}
		subs[i] = newFanoutSub(people, box, per)
		subs[i].path = path
	}
	began := time.Now()
	// One first, alone: a missing route is a skip, not a thousand failures.
	if err := subs[0].open(ctx, tr, addr, epoch); err != nil {
		return nil, err
	}
	res.Failed, res.FirstErr = dialAll(ctx, 1, len(subs), func(i int) error {
		return subs[i].open(ctx, tr, addr, epoch)
	})
	res.ConnectTime = time.Since(began)
	res.SnapshotBytes = subs[0].snapshot
	open := subs[:0]
	for _, s := range subs {
		if s.conn != nil {
			open = append(open, s)
		}
	}
	res.Connected = len(open)
	return open, ctx.Err()
}

// open dials the subscriber's stream and reads its snapshot.
func (s *fanoutSub) open(ctx context.Context, tr, addr string, epoch time.Time) error {
	var c streamConn
	var err error
	if tr == "sse" {
		c, err = dialSSE(ctx, addr, s.path, epoch)
	} else {
		c, err = dialWS(ctx, addr, s.path, epoch)
	}
	if err != nil {
		return err
	}
	s.conn = c
	if err := s.readSnapshot(); err != nil {
		c.Close()
		s.conn = nil
		return err
	}
	return nil
}

func closeSubs(subs []*fanoutSub) {
	for _, s := range subs {
		if s.conn != nil {
			s.conn.Close()
		}
	}
}

// tallyFanout adds up the subscribers against the move log.
func (b *bench) tallyFanout(res *fanoutResult, w *fanoutWriter, subs []*fanoutSub, log [][]move, win span) {
	secs := time.Duration(win.to - win.from).Seconds()
	var posted int64
	for _, ms := range log {
		for _, m := range ms {
			if win.has(m.at) {
				posted++
			}
		}
	}
	res.PostedRate = float64(posted) / secs
	res.WriterErrors, res.WriterErr = w.errors, w.firstErr
	var lat []uint32
	var inWin, expWin int64
	for _, s := range subs {
		e := s.expect(log, win)
		early, unmatched := s.settle(w, win)
		res.Early += early
		res.Unmatched += unmatched
		n := s.updates.Load()
		res.Delivered += n
		res.Reads += s.conn.reads()
		res.Expected += e.total
		res.Missing += max(e.total-(n-s.stale), 0)
		res.Skipped += s.skipped
		res.Stale += s.stale
		res.Other += s.other
		res.Bad += s.bad
		res.Lost += e.lost
		inWin += s.inWindow
		expWin += e.inWindow
		if s.err != nil {
			res.Closed++
			if res.CloseErr == "" {
				res.CloseErr = s.err.Error()
			}
		}
		lat = append(lat, s.lat...)
	}
	res.DeliveredRate, res.ExpectedRate = float64(inWin)/secs, float64(expWin)/secs
	res.Lat = make([]time.Duration, len(lat))
	for i, us := range lat {
		res.Lat[i] = time.Duration(us) * time.Microsecond
	}
	slices.Sort(res.Lat)
}
