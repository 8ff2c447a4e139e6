package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"whereabouts/geo"
)

// The writer posts Rate positions a second as small `POST /api/v1/locations`
// batches, one every fanoutTick: at 5,000 updates/s that is 100 requests a
// second, where single PUTs would be 5,000 and eat the core the fan-out
// needs. A batch answer carries no versions, so the writer infers them:
// the bench is the only writer, it never has two batches in flight for one
// person, and every accepted position is a move (recorded_at is the
// server's now, and each position is a new place). The final versions are
// checked against the database afterwards.

const (
	fanoutTick    = 10 * time.Millisecond
	fanoutSenders = 16 // batches in flight at most: a few slow commits must not stall the pace
)

// move is one committed position: its person, version, the point before and
// after, and when its batch was answered (ns since the phase's epoch).
type move struct {
	id, version int32
	from, to    geo.Point
	at          int64
}

// fanoutWriter paces the posts and keeps the answer time of every (person,
// version) where the subscribers can look it up while frames arrive.
type fanoutWriter struct {
	people int
	epoch  time.Time
	// answers is unbounded per person: when batches queue up, pick skips
	// the people in flight and the others move more often than their share.
	answers *answerBook
	busy    []atomic.Bool // a batch holding the person is in flight
	ver     []int32       // version after the last answered move; senders own a person while busy

	pos  []geo.Point // ticker-owned: where each person is sent next from
	rng  *rand.Rand
	next int // round-robin cursor over people

	mu       sync.Mutex
	moves    [][]move // per sender
	posted   int64    // positions accepted
	requests int
	errors   int
	firstErr string
}

// newFanoutWriter starts from the people's state in the database; each
// person gets room for movesEach answers before the slower overflow map.
func newFanoutWriter(start []personAt, epoch time.Time, movesEach int) *fanoutWriter {
	n := len(start)
	w := &fanoutWriter{people: n, epoch: epoch, ver: make([]int32, n+1),
		pos: make([]geo.Point, n+1), busy: make([]atomic.Bool, n+1), rng: newRand(99)}
	for _, p := range start {
		w.ver[p.id], w.pos[p.id] = p.version, p.at
	}
	w.answers = newAnswerBook(slices.Clone(w.ver), movesEach)
	return w
}

// answer returns when the move of person id to version was answered, and
// whether it has been.
func (w *fanoutWriter) answer(id, version int64) (int64, bool) { return w.answers.load(id, version) }

// answered records a move's answer time and logs the move.
func (w *fanoutWriter) answered(sender int, m move) {
	w.answers.store(int64(m.id), int64(m.version), max(m.at, 1))
	w.moves[sender] = append(w.moves[sender], m)
}

type batchJob struct {
	ids []int32
	to  []geo.Point
}

// run posts until end (ns since epoch) or ctx ends, and returns when every
// answer is in.
func (w *fanoutWriter) run(ctx context.Context, url, token string, rate int, end int64) {
	client := newClient(fanoutSenders)
	defer client.CloseIdleConnections()
	jobs := make(chan batchJob, 64)
	w.moves = make([][]move, fanoutSenders)
	var wg sync.WaitGroup
	for i := range fanoutSenders {
		wg.Go(func() {
			for j := range jobs {
				w.send(ctx, client, url, token, i, j)
			}
		})
	}
	w.pace(ctx, jobs, rate, end)
	close(jobs)
	wg.Wait()
}

// pace hands out exactly rate positions per second of elapsed time, whatever
// the ticker's jitter; persons with a batch in flight wait their turn.
func (w *fanoutWriter) pace(ctx context.Context, jobs chan<- batchJob, rate int, end int64) {
	t := time.NewTicker(fanoutTick)
	defer t.Stop()
	start, sent := time.Since(w.epoch), int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Since(w.epoch)
		if int64(now) >= end {
			return
		}
		due := int64(float64(rate)*(now-start).Seconds()) - sent
		if due <= 0 {
			continue
		}
		j := w.pick(int(min(due, 10000)))
		if len(j.ids) == 0 {
			continue
		}
		select {
		case jobs <- j:
			sent += int64(len(j.ids))
		case <-ctx.Done():
			return
		}
	}
}

// pick chooses up to n people not in flight and their next points.
func (w *fanoutWriter) pick(n int) batchJob {
	var j batchJob
	for tries := 0; len(j.ids) < n && tries < w.people; tries++ {
		w.next = w.next%w.people + 1
		id := w.next
		if w.busy[id].Load() {
			continue
		}
		w.busy[id].Store(true)
		w.pos[id] = defaultCity.step(w.pos[id], w.rng)
		j.ids = append(j.ids, int32(id))
		j.to = append(j.to, w.pos[id])
	}
	return j
}

func (w *fanoutWriter) send(ctx context.Context, client *http.Client, url, token string, sender int, j batchJob) {
	body := make([]byte, 0, 64*len(j.ids))
	body = append(body, '[')
	for k, id := range j.ids {
		if k > 0 {
			body = append(body, ',')
		}
		body = strconv.AppendInt(append(body, `{"person_id":`...), int64(id), 10)
		body = append(appendLatLon(append(body, ','), j.to[k].Lat, j.to[k].Lon), '}')
	}
	body = append(body, ']')
	err := w.post(ctx, client, url, token, body, len(j.ids))
	at := int64(time.Since(w.epoch))
	w.mu.Lock()
	w.requests++
	if err != nil {
		w.errors++
		if w.firstErr == "" {
			w.firstErr = err.Error()
		}
	} else {
		w.posted += int64(len(j.ids))
	}
	w.mu.Unlock()
	for k, id := range j.ids {
		if err == nil {
			w.ver[id]++
			w.answered(sender, move{id: id, version: w.ver[id], to: j.to[k], at: at})
		}
		// A failed batch leaves its people's versions unknown; the final
		// check against the database reports it.
		w.busy[id].Store(false)
	}
}

func (w *fanoutWriter) post(ctx context.Context, client *http.Client, url, token string, body []byte, n int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/locations", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("read batch answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /api/v1/locations: %s: %s", resp.Status, firstLine(buf.String()))
	}
	if got := acceptedCount(buf.Bytes()); got != n {
		return fmt.Errorf("POST /api/v1/locations accepted %d of %d: %s", got, n, firstLine(buf.String()))
	}
	return nil
}

// log returns every move, per person in version order, with each move's
// starting point filled in.
func (w *fanoutWriter) log(start []personAt) [][]move {
	per := make([][]move, w.people+1)
	for _, ms := range w.moves {
		for _, m := range ms {
			per[m.id] = append(per[m.id], m)
		}
	}
	for _, p := range start {
		from := p.at
		ms := per[p.id]
		slices.SortFunc(ms, func(a, b move) int { return cmp.Compare(a.version, b.version) })
		for k := range ms {
			ms[k].from, from = from, ms[k].to
		}
	}
	return per
}

// personAt is a person's state in the database.
type personAt struct {
	id      int32
	version int32
	at      geo.Point
}

// newClient is a keep-alive client with one idle connection per sender: the
// writer posts about a hundred batches a second, so net/http's Transport
// costs little here, unlike in the single-position ingest run.
func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}
