package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"whereabouts/api"
)

// picture is what a client knows: each person's version and place.
type picture map[int64]placed

type placed struct {
	version  int64
	lon, lat float64
}

// apply folds one message in, failing on anything a correct stream never
// sends: a version older than one already held.
func (p picture) apply(t *testing.T, m streamMsg) {
	t.Helper()
	switch m.Type {
	case "snapshot":
		clear(p)
		for _, f := range m.Features {
			p[f.ID] = placed{f.Properties.Version, f.Geometry.Coordinates[0], f.Geometry.Coordinates[1]}
		}
	case "update":
		f := m.Feature
		held, ok := p[f.ID]
		if ok && f.Properties.Version < held.version {
			t.Fatalf("person %d went back from version %d to %d", f.ID, held.version, f.Properties.Version)
		}
		p[f.ID] = placed{f.Properties.Version, f.Geometry.Coordinates[0], f.Geometry.Coordinates[1]}
	case "remove":
		delete(p, m.ID)
	default:
		t.Fatalf("unexpected %s message: %+v", m.Type, m)
	}
}

// dbPicture is the committed state.
func (s *service) dbPicture(t *testing.T) picture {
	rows, err := s.connect().Query(context.Background(),
		`SELECT id, version, ST_X(loc::geometry), ST_Y(loc::geometry) FROM person WHERE loc IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	p := picture{}
	for rows.Next() {
		var id int64
		var pl placed
		if err := rows.Scan(&id, &pl.version, &pl.lon, &pl.lat); err != nil {
			t.Fatal(err)
		}
		p[id] = pl
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p picture) diff(want picture) string {
	for id, w := range want {
		if got, ok := p[id]; !ok || got != w {
			return fmt.Sprintf("person %d: client has %+v (held: %v), database %+v", id, got, ok, w)
		}
	}
	for id := range p {
		if _, ok := want[id]; !ok {
			return fmt.Sprintf("client holds person %d, the database does not", id)
		}
	}
	return ""
}

// A client disconnects mid-stream while writers commit out of order
// (transactions held open across later commits), 500 moves in all; it
// resumes with its last cursor and must end with exactly the committed
// state, from the changes since its cursor, not a fresh snapshot.
func TestStreamResumesByCursorWithoutAGap(t *testing.T) {
	for _, transport := range []string{"websocket", "sse", "poll"} {
		t.Run(transport, func(t *testing.T) { testResume(t, transport) })
	}
}

func testResume(t *testing.T, transport string) {
	s := newService(t, api.Config{})
	const (
		apiPeople, heldPeople = 16, 4
		apiMoves, heldMoves   = 440, 60 // 500 in all
		apiWriters            = 4
	)
	var ids []int64
	base := time.Now().Add(-time.Hour)
	for i := range apiPeople + heldPeople {
		id, _ := s.newPerson(fmt.Sprintf("P%d", i))
		ids = append(ids, id)
		body := fmt.Sprintf(`{"lat": 1, "lon": %d, "recorded_at": %q}`, i, base.Format(time.RFC3339Nano))
		if r := s.call("PUT", path(id, "/location"), adminToken, body); r.status != http.StatusOK {
			t.Fatalf("seed: %d %s", r.status, r.body)
		}
	}

	c := openStream(t, s, transport, "", "")
	held := picture{}
	held.apply(t, c.next(t))
	if len(held) != len(ids) {
		t.Fatalf("snapshot holds %d people, want %d", len(held), len(ids))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, apiWriters+heldPeople)
	// Held transactions: each person's last move takes its xid, then stays
	// open while the API writers commit later transactions, and commits
	// only once the client has left: out of xid order, and the last word
	// on that person, so a cursor that passed it loses the move for good.
	var opened sync.WaitGroup
	left := make(chan struct{})
	for _, id := range ids[apiPeople:] {
		conn := s.connect()
		opened.Add(1)
		wg.Go(func() {
			for n := 1; n <= heldMoves/heldPeople; n++ {
				last := n == heldMoves/heldPeople
				tx, err := conn.Begin(ctx)
				if err == nil {
					_, err = tx.Exec(ctx, `UPDATE person SET loc = ST_MakePoint($2, $3)::geography,
						recorded_at = $4, version = version + 1 WHERE id = $1`,
						id, rand.Float64()*10, rand.Float64()*10, base.Add(time.Duration(n)*time.Second))
				}
				if err != nil {
					errs <- err
					opened.Done()
					return
				}
				if last {
					opened.Done()
					<-left
				} else {
					time.Sleep(time.Duration(20+rand.IntN(60)) * time.Millisecond)
				}
				if err := tx.Commit(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// API writers, each owning some people so that their times rise. The
	// last moves are paced so that they go on while the held ones are open.
	var moves atomic.Int64
	finalsOpen := make(chan struct{})
	go func() { opened.Wait(); close(finalsOpen) }()
	for w := range apiWriters {
		wg.Go(func() {
			for n := 1; ; n++ {
				done := moves.Add(1)
				if done > apiMoves {
					return
				}
				if done > apiMoves-150 {
					<-finalsOpen
					time.Sleep(25 * time.Millisecond)
				}
				id := ids[w+apiWriters*(n%(apiPeople/apiWriters))]
				body := fmt.Sprintf(`{"lat": %f, "lon": %f, "recorded_at": %q}`,
					rand.Float64()*10, rand.Float64()*10, base.Add(time.Duration(n)*time.Second).Format(time.RFC3339Nano))
				req, _ := http.NewRequestWithContext(ctx, "PUT", s.url+path(id, "/location"), strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+adminToken)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("PUT: %d", resp.StatusCode)
					return
				}
			}
		})
	}

	// Follow the stream while the held moves are open, long enough for
	// horizon markers to pass, then leave.
	<-finalsOpen
	for since := time.Now(); time.Since(since) < 700*time.Millisecond; {
		held.apply(t, c.next(t))
	}
	if p, ok := c.(*pollClient); ok {
		for len(p.pending) > 0 { // a poll answer is applied whole before its cursor counts
			held.apply(t, c.next(t))
		}
	}
	cursor := c.resumeFrom()
	c.close()
	close(left)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := s.dbPicture(t)
	if held.diff(want) == "" {
		t.Fatal("the client already had the final state when it left: the test proves nothing")
	}

	c = openStream(t, s, transport, "", cursor)
	defer c.close()
	resumed := 0
	for deadline := time.Now().Add(15 * time.Second); held.diff(want) != ""; resumed++ {
		if time.Now().After(deadline) {
			t.Fatalf("after %d messages since cursor %s: %s", resumed, cursor, held.diff(want))
		}
		m := c.next(t)
		if m.Type == "snapshot" {
			t.Fatalf("resuming from cursor %s gave a snapshot (reason %q), not the changes since", cursor, m.Reason)
		}
		held.apply(t, m)
	}
	t.Logf("%s: resumed from cursor %s with %d messages", transport, cursor, resumed)
}
