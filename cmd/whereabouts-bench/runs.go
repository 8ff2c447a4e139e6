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

// measure runs each phase as a pair, close in time so that both see the
// same machine: first the pgbench ceiling with the server stopped (PostgreSQL
// has the cores to itself, apart from the notification counter and a
// stand-in for the server's LISTEN connection, so both phases feed two
// listeners), then a fresh server under HTTP load. It
// returns the rows and the server's largest peak RSS.
func (b *bench) measure(ctx context.Context, ps []*phase) ([]row, int64, error) {
	var rows []row
	var peak int64
	for _, p := range ps {
		if err := b.ceiling(ctx, p); err != nil {
			return nil, 0, err
		}
		if err := b.startServer(ctx); err != nil {
			return nil, 0, err
		}
		r, err := b.serverPhase(ctx, p)
		if err != nil {
			return nil, 0, err
		}
		rows = append(rows, r)
		rss, err := b.srv.peakRSS()
		if err != nil {
			b.notes = append(b.notes, "server peak RSS not read: "+err.Error())
		}
		peak = max(peak, rss)
		if err := b.stopServer(); err != nil {
			return nil, 0, err
		}
	}
	return rows, peak, nil
}

func (b *bench) ceiling(ctx context.Context, p *phase) error {
	b.logf("pgbench: %s, %d clients, %s", p.Kind, p.Clients, b.opts.Duration)
	if err := b.checkpoint(ctx); err != nil {
		return err
	}
	win, err := b.openWindow(ctx)
	if err != nil {
		return err
	}
	// The server's own LISTEN connection costs PostgreSQL work on every
	// commit that notifies; a stand-in keeps the ceiling honest.
	standIn, err := b.listen(ctx, "server stand-in listener")
	if err != nil {
		return err
	}
	p.PG, err = b.runPgbench(ctx, p.name(), b.script(p), p.Clients, b.opts.Duration)
	standIn.stop()
	if err != nil {
		return err
	}
	b.logf("  %.1f tps, %d failed", p.PG.TPS, p.PG.Failed)
	if p.PG.Failed > 0 {
		b.notes = append(b.notes, fmt.Sprintf("pgbench %s: %d failed transactions", p.name(), p.PG.Failed))
	}
	if p.Kind == "nearby" {
		return nil
	}
	return b.closeWindow(ctx, win, &b.pg)
}

func (b *bench) serverPhase(ctx context.Context, p *phase) (row, error) {
	b.logf("HTTP: %s, %d clients, %s", p.Kind, p.Clients, b.opts.Duration)
	switch p.Kind {
	case "ingest":
		return b.ingestHTTP(ctx, p)
	case "batch":
		return b.batchHTTP(ctx, p)
	}
	return b.nearbyHTTP(ctx, p)
}

func (b *bench) ingestHTTP(ctx context.Context, p *phase) (row, error) {
	res, err := b.httpPhase(ctx, true, p.Clients, b.putLocation, oneEach)
	if err != nil {
		return row{}, err
	}
	b.noteGroupSize(ctx, p)
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
	return r, nil
}

// noteGroupSize reports the server's mean group-commit size over its life
// (warm-up included), which explains most of an ingest row.
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

func (b *bench) batchHTTP(ctx context.Context, p *phase) (row, error) {
	size := b.opts.BatchSize
	res, err := b.httpPhase(ctx, true, p.Clients, b.postLocations, acceptedCount)
	if err != nil {
		return row{}, err
	}
	if want := int64(res.Requests) * int64(size); res.Units < want {
		b.notes = append(b.notes, fmt.Sprintf("batch: %d of %d positions in 2xx answers were rejected", want-res.Units, want))
	}
	r := newRow(fmt.Sprintf("batch ingest: `POST /api/v1/locations`, %d positions a request (latency per request)", size), p.Clients, "positions/s", res)
	r.Ceiling, r.CeilNote = p.PG.TPS*float64(size), fmt.Sprintf("positions/s (%.1f tps)", p.PG.TPS)
	r.Target = "≥ 30,000 positions/s"
	r.judge(r.Rate >= 30000)
	return r, nil
}

func (b *bench) nearbyHTTP(ctx context.Context, p *phase) (row, error) {
	r := row{Run: "nearby k=10: `GET /api/v1/people/nearby?lat=&lon=&limit=10`", Clients: p.Clients, Unit: "req/s"}
	status, err := b.probe(ctx, b.getNearby)
	switch {
	case err != nil:
		return row{}, err
	case status == http.StatusNotImplemented:
		r.NA = "not available (501: route not built yet)"
		b.logf("  nearby answers 501: not available")
	default:
		res, err := b.httpPhase(ctx, false, p.Clients, b.getNearby, oneEach)
		if err != nil {
			return row{}, err
		}
		r = newRow(r.Run, p.Clients, r.Unit, res)
	}
	r.Ceiling, r.CeilNote, r.Percent = p.PG.TPS, "tps", true
	r.Target = "≥ 70% of pgbench"
	if r.NA == "" {
		r.judge(r.ratio() >= 0.7)
	}
	return r, nil
}

// httpPhase runs one HTTP load after a CHECKPOINT; counted phases also
// compare the notifications received with the moves committed.
func (b *bench) httpPhase(ctx context.Context, counted bool, clients int, mk makeRequest, units countUnits) (loadResult, error) {
	if err := b.checkpoint(ctx); err != nil {
		return loadResult{}, err
	}
	win, err := b.openWindow(ctx)
	if err != nil {
		return loadResult{}, err
	}
	res := load(ctx, b.srv.addr(), clients, b.warmup(), b.opts.Duration, mk, units)
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
