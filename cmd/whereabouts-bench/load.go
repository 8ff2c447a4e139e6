package main

import (
	"bytes"
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"
)

// city is where people live and move: a square 2*DLat by 2*DLon degrees
// around a centre. pgbench has no trigonometry, so the HTTP clients, the
// seeding and the pgbench scripts all use the same square.
type city struct {
	Lat, Lon   float64
	DLat, DLon float64
}

// newCity is a square of side km kilometres around lat, lon.
func newCity(lat, lon, km float64) city {
	const mPerDeg = 111320.0
	half := km * 1000 / 2
	return city{Lat: lat, Lon: lon, DLat: half / mPerDeg, DLon: half / (mPerDeg * math.Cos(lat*math.Pi/180))}
}

// defaultCity is 40 km x 40 km around central Amsterdam.
var defaultCity = newCity(52.37, 4.89, 40)

func (c city) point(r *rand.Rand) (lat, lon float64) {
	return c.Lat + (2*r.Float64()-1)*c.DLat, c.Lon + (2*r.Float64()-1)*c.DLon
}

func newRand(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), stream))
}

// worker is one client's state: its random source and reusable buffers.
type worker struct {
	rng  *rand.Rand
	conn keepAlive
	resp bytes.Buffer // response body
}

// makeRequest builds a worker's next request. countUnits says how many
// units (requests, positions) a 2xx answer carries.
type makeRequest func(w *worker) request
type countUnits func(body []byte) int

// loadResult is one HTTP phase: what succeeded, how fast, and what failed.
type loadResult struct {
	Requests int   // 2xx answers
	Units    int64 // units in them (positions for a batch)
	Errors   int   // non-2xx answers and transport errors
	FirstErr string
	Elapsed  time.Duration
	Lat      []time.Duration // sorted latencies of the 2xx answers
}

// merge adds a slice of the same phase to r.
func (r loadResult) merge(o loadResult) loadResult {
	r.Requests += o.Requests
	r.Units += o.Units
	r.Errors += o.Errors
	r.FirstErr = cmp.Or(r.FirstErr, o.FirstErr)
	r.Elapsed += o.Elapsed
	r.Lat = append(r.Lat, o.Lat...)
	slices.Sort(r.Lat)
	return r
}

func (r loadResult) rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Units) / r.Elapsed.Seconds()
}

// load runs clients workers against addr (host:port) for warm (not
// measured) and then dur, each sending its next request as soon as the
// previous one was answered.
func load(ctx context.Context, addr string, clients int, warm, dur time.Duration, mk makeRequest, units countUnits) loadResult {
	start := time.Now().Add(warm)
	end := start.Add(dur)
	parts := make([]loadResult, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			w := &worker{rng: newRand(uint64(i)), conn: keepAlive{addr: addr}}
			parts[i] = drive(ctx, w, start, end, mk, units)
			w.conn.close()
		})
	}
	wg.Wait()
	total := loadResult{Elapsed: time.Since(start)}
	for _, p := range parts {
		total.Requests += p.Requests
		total.Units += p.Units
		total.Errors += p.Errors
		if total.FirstErr == "" {
			total.FirstErr = p.FirstErr
		}
		total.Lat = append(total.Lat, p.Lat...)
	}
	slices.Sort(total.Lat)
	return total
}

func drive(ctx context.Context, w *worker, start, end time.Time, mk makeRequest, units countUnits) loadResult {
	res := loadResult{Lat: make([]time.Duration, 0, 1<<14)}
	for ctx.Err() == nil {
		t0 := time.Now()
		if !t0.Before(end) {
			break
		}
		status, err := w.conn.do(ctx, mk(w), &w.resp)
		if err != nil {
			if ctx.Err() == nil {
				res.fail(err.Error())
				time.Sleep(10 * time.Millisecond) // a dead server must not make us spin
			}
			continue
		}
		d := time.Since(t0)
		if t0.Before(start) {
			continue // warm-up
		}
		switch {
		case status/100 != 2:
			res.fail(strconv.Itoa(status) + ": " + firstLine(w.resp.String()))
		default:
			res.Requests++
			res.Units += int64(units(w.resp.Bytes()))
			res.Lat = append(res.Lat, d)
		}
	}
	return res
}

func (r *loadResult) fail(msg string) {
	r.Errors++
	if r.FirstErr == "" {
		r.FirstErr = msg
	}
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// percentile is the nearest-rank percentile p (0..100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
