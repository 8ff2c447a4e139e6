package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// phase is one line of the table: a pgbench ceiling and the HTTP load it is
// compared with, at the same concurrency.
type phase struct {
	Kind    string // ingest, batch, nearby
	Clients int
	PG      pgbenchResult
}

func (p phase) name() string { return fmt.Sprintf("%s-c%d", p.Kind, p.Clients) }

// plan lists the phases the flags ask for, in table order.
func plan(o options) []*phase {
	var ps []*phase
	if o.has("ingest") {
		for _, c := range o.Clients {
			ps = append(ps, &phase{Kind: "ingest", Clients: c})
		}
	}
	if o.has("batch") {
		ps = append(ps, &phase{Kind: "batch", Clients: o.BatchClients})
	}
	if o.has("nearby") {
		ps = append(ps, &phase{Kind: "nearby", Clients: o.NearbyClients})
	}
	return ps
}

func (b *bench) script(p *phase) string {
	switch p.Kind {
	case "ingest":
		return ingestScript(b.opts.Phones, defaultCity)
	case "batch":
		return batchScript(b.opts.People, b.opts.BatchSize, defaultCity)
	}
	return nearbyScript(defaultCity)
}

// measure runs each phase as interleaved pairs of slices, so that both
// sides see the same machine: the host's speed drifts over minutes, and
// interleaving weighs that drift on both alike. A slice pair is first the
// pgbench ceiling, then HTTP load on the server. The server is started
// once a phase, so that it meets its slices warm as a running instance
// would (a fresh one checks every phone's token in the database first); it
// idles, listening, while pgbench runs, so both sides feed two LISTEN
// connections: the counter and the server's. It returns the rows and the
// server's largest peak RSS.
func (b *bench) measure(ctx context.Context, ps []*phase) ([]row, int64, error) {
	var rows []row
	var peak int64
	for _, p := range ps {
		r, rss, err := b.measurePhase(ctx, p)
		if err != nil {
			return nil, 0, err
		}
		rows, peak = append(rows, r), max(peak, rss)
	}
	return rows, peak, nil
}

func (b *bench) measurePhase(ctx context.Context, p *phase) (row, int64, error) {
	slice := b.opts.slice()
	if err := b.startServer(ctx); err != nil {
		return row{}, 0, err
	}
	defer b.stopServer()
	var pg []pgbenchResult
	var res loadResult
	na := false
	for range b.opts.Slices {
		part, err := b.ceiling(ctx, p, slice)
		if err != nil {
			return row{}, 0, err
		}
		pg = append(pg, part)
		if na {
			continue
		}
		got, err := b.serverSlice(ctx, p, slice)
		if err != nil {
			return row{}, 0, err
		}
		na = got.na
		res = res.merge(got.load)
	}
	p.PG = mergePgbench(pg)
	if p.PG.Failed > 0 {
		b.notes = append(b.notes, fmt.Sprintf("pgbench %s: %d failed transactions", p.name(), p.PG.Failed))
	}
	if p.Kind == "ingest" {
		b.noteGroupSize(ctx, p)
	}
	rss, err := b.srv.peakRSS()
	if err != nil {
		b.notes = append(b.notes, "server peak RSS not read: "+err.Error())
	}
	if err := b.stopServer(); err != nil {
		return row{}, 0, err
	}
	return b.row(p, res, na), rss, nil
}

func (b *bench) ceiling(ctx context.Context, p *phase, dur time.Duration) (pgbenchResult, error) {
	b.logf("pgbench: %s, %d clients, %s", p.Kind, p.Clients, dur)
	if err := b.checkpoint(ctx); err != nil {
		return pgbenchResult{}, err
	}
	win, err := b.openWindow(ctx)
	if err != nil {
		return pgbenchResult{}, err
	}
	res, err := b.runPgbench(ctx, p.name(), b.script(p), p.Clients, warmupFor(dur), dur)
	if err != nil {
		return pgbenchResult{}, err
	}
	b.logf("  %.1f tps, %d failed", res.TPS, res.Failed)
	if p.Kind == "nearby" {
		return res, nil
	}
	return res, b.closeWindow(ctx, win, &b.pg)
}

// httpSlice is one HTTP slice of a phase; na means the route is not built.
type httpSlice struct {
	load loadResult
	na   bool
}

func (b *bench) serverSlice(ctx context.Context, p *phase, dur time.Duration) (httpSlice, error) {
	b.logf("HTTP: %s, %d clients, %s", p.Kind, p.Clients, dur)
	switch p.Kind {
	case "ingest":
		res, err := b.httpPhase(ctx, true, p.Clients, dur, b.putLocation, oneEach)
		return httpSlice{load: res}, err
	case "batch":
		res, err := b.httpPhase(ctx, true, p.Clients, dur, b.postLocations, acceptedCount)
		return httpSlice{load: res}, err
	}
	status, err := b.probe(ctx, b.getNearby)
	switch {
	case err != nil:
		return httpSlice{}, err
	case status == http.StatusNotImplemented:
		b.logf("  nearby answers 501: not available")
		return httpSlice{na: true}, nil
	}
	res, err := b.httpPhase(ctx, false, p.Clients, dur, b.getNearby, oneEach)
	return httpSlice{load: res}, err
}

// row judges a phase's merged slices against its target.
func (b *bench) row(p *phase, res loadResult, na bool) row {
	switch p.Kind {
	case "ingest":
		r := newRow(fmt.Sprintf("single-position ingest: `PUT /api/v1/people/{id}/location` (%s phones, own device tokens)",
			grouped0(int64(b.opts.Phones))), p.Clients, "req/s", res)
		r.Ceiling, r.CeilNote = p.PG.TPS, "tps"
		switch p.Clients {
		case 32:
			r.Target = "≥ 4x, p99 ≤ 10 ms"
			r.judge(r.ratio() >= 4 && r.P99 <= 10*time.Millisecond)
		case 128:
			r.Target = "≥ 6x"
			r.judge(r.ratio() >= 6)
		}
		return r
	case "batch":
		size := b.opts.BatchSize
		if want := int64(res.Requests) * int64(size); res.Units < want {
			b.notes = append(b.notes, fmt.Sprintf("batch: %d of %d positions in 2xx answers were rejected", want-res.Units, want))
		}
		r := newRow(fmt.Sprintf("batch ingest: `POST /api/v1/locations`, %d positions a request (latency per request)", size), p.Clients, "positions/s", res)
		r.Ceiling, r.CeilNote = p.PG.TPS*float64(size), fmt.Sprintf("positions/s (%.1f tps)", p.PG.TPS)
		r.Target = "≥ 30,000 positions/s"
		r.judge(r.Rate >= 30000)
		return r
	}
	r := row{Run: "nearby k=10: `GET /api/v1/people/nearby?lat=&lon=&limit=10`", Clients: p.Clients, Unit: "req/s"}
	if na {
		r.NA = "not available (501: route not built yet)"
	} else {
		r = newRow(r.Run, p.Clients, r.Unit, res)
	}
	r.Ceiling, r.CeilNote, r.Percent = p.PG.TPS, "tps", true
	r.Target = "≥ 70% of pgbench"
	if r.NA == "" {
		r.judge(r.ratio() >= 0.7)
	}
	return r
}

// noteGroupSize reports the server's mean group-commit size over its life
// (warm-ups included), which explains most of an ingest row.
func (b *bench) noteGroupSize(ctx context.Context, p *phase) {
	url := b.srv.url + "/metrics"
	sum, err := scrapeGauge(ctx, url, "whereabouts_group_commit_rows_sum")
	if err == nil {
		var n float64
		if n, err = scrapeGauge(ctx, url, "whereabouts_group_commit_rows_count"); err == nil && n > 0 {
			b.logf("  %.1f fixes per group commit (%.0f transactions)", sum/n, n)
			b.notes = append(b.notes, fmt.Sprintf("%s: %.1f fixes per group-commit transaction on average", p.name(), sum/n))
			return
		}
	}
	b.logf("  group-commit size not read: %v", err)
}

// httpPhase runs one HTTP load after a CHECKPOINT; counted phases also
// compare the notifications received with the moves committed.
func (b *bench) httpPhase(ctx context.Context, counted bool, clients int, dur time.Duration, mk makeRequest, units countUnits) (loadResult, error) {
	if err := b.checkpoint(ctx); err != nil {
		return loadResult{}, err
	}
	win, err := b.openWindow(ctx)
	if err != nil {
		return loadResult{}, err
	}
	res := load(ctx, b.srv.addr(), clients, warmupFor(dur), dur, mk, units)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	b.logf("  %.0f/s, %d errors", res.rate(), res.Errors)
	if counted {
		err = b.closeWindow(ctx, win, &b.http)
	}
	return res, err
}

// probe sends one request and returns its status.
func (b *bench) probe(ctx context.Context, mk makeRequest) (int, error) {
	w := &worker{rng: newRand(1), conn: keepAlive{addr: b.srv.addr()}}
	defer w.conn.close()
	req := mk(w)
	status, err := w.conn.do(ctx, req, &w.resp)
	if err != nil {
		return 0, fmt.Errorf("probe %s: %w", req.Path, err)
	}
	return status, nil
}
