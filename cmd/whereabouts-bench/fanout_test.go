package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"whereabouts/geo"
)

// A person Feature as PostgreSQL's json_build_object writes it (spaces
// around colons), with a name that tries to look like the keys we scan for.
const pgFeature = `{"type" : "Feature", "id" : 42, "geometry" : {"type" : "Point", "coordinates" : [4.89, 52.37]}, ` +
	`"properties" : {"name" : "\"id\": 7, \"version\": 9", "device_id" : "version", "recorded_at" : "2026-11-28T17:00:00.000000Z", "version" : 1234, "battery" : 0.5}}`

func TestParseMessage(t *testing.T) {
	for _, c := range []struct {
		msg         string
		kind        msgKind
		id, version int64
	}{
		{`{"type":"update","feature":` + pgFeature + `}`, kindUpdate, 42, 1234},
		{`{"type":"update","cursor":"981","feature":` + pgFeature + `}`, kindUpdate, 42, 1234},
		{`{"feature":` + pgFeature + `,"type":"update","cursor":"981"}`, kindUpdate, 42, 1234},
		{`{"type":"update","feature":{"type":"Feature","id":3,"geometry":null,"properties":{"version":1}}}`, kindUpdate, 3, 1},
		{`{"type":"remove","id":17}`, kindRemove, 17, 0},
		{`{"type":"snapshot","features":[` + pgFeature + `]}`, kindSnapshot, 0, 0},
		{`{"type":"error","error":{"code":"invalid_parameter","message":"\"feature\": nope"}}`, kindOther, 0, 0},
	} {
		kind, id, v, err := parseMessage([]byte(c.msg))
		if err != nil || kind != c.kind || id != c.id || v != c.version {
			t.Errorf("%s:\ngot kind %d id %d version %d err %v, want %d %d %d", c.msg, kind, id, v, err, c.kind, c.id, c.version)
		}
	}
	// The server's own layout is read where the numbers stand; a move with
	// readings after its version, or any other layout, takes the scan.
	server := `{"type":"update","cursor":"981234","feature":{"type" : "Feature", "id" : 42, "geometry" : {"type" : "Point", "coordinates" : [4.89, 52.37]}, ` +
		`"properties" : {"name":"\"version\":9}}}","device_id":"d","recorded_at":"2026-11-28T17:00:00.000000Z","version":1234}}}`
	withReadings := strings.Replace(server, `1234}`, `1234,"battery":0.5}`, 1)
	for _, c := range []struct {
		msg  string
		fast bool
	}{{server, true}, {withReadings, false}, {`{"type":"update","feature":` + pgFeature + `}`, false}} {
		id, v, fast := serverUpdate([]byte(c.msg))
		if fast != c.fast || (fast && (id != 42 || v != 1234)) {
			t.Errorf("%s: read in place %v (id %d, version %d), want %v", c.msg, fast, id, v, c.fast)
		}
		if kind, id, v, err := parseMessage([]byte(c.msg)); kind != kindUpdate || id != 42 || v != 1234 || err != nil {
			t.Errorf("%s: kind %d id %d version %d err %v", c.msg, kind, id, v, err)
		}
	}
	for _, bad := range []string{
		`{"type":"update","feature":{"type":"Feature","properties":{"version":1}}}`,
		`{"type":"update","feature":{"type":"Feature","id":1,"properties":{"name":"x"}}}`,
		`{"type":"update","feature":{"type":"Feature","id":"1","properties":{"version":1}}}`,
		`{"type":"update","feature":{"type":"Feature","id":12345678901234567890,"properties":{"version":1}}}`,
	} {
		if kind, _, _, err := parseMessage([]byte(bad)); kind != kindUpdate || err == nil {
			t.Errorf("%s: kind %d, err %v; want an unreadable update", bad, kind, err)
		}
	}
	snap := `{"type":"snapshot","features":[` + pgFeature + `,` + strings.ReplaceAll(strings.ReplaceAll(pgFeature, `: 42`, `: 43`), `: 1234`, `: 0`) + `]}`
	var got [][2]int64
	n, err := snapshotVersions([]byte(snap), func(id, v int64) { got = append(got, [2]int64{id, v}) })
	if err != nil || n != 2 || got[0] != [2]int64{42, 1234} || got[1] != [2]int64{43, 0} {
		t.Errorf("snapshot: %d %v %v", n, got, err)
	}
	if n, err := snapshotVersions([]byte(`{"type":"snapshot","features":[]}`), nil); n != 0 || err != nil {
		t.Errorf("empty snapshot: %d %v", n, err)
	}
}

// wsFrame is a server frame: final, unmasked.
func wsFrame(op byte, payload string) []byte {
	b := []byte{0x80 | op}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, payload...)
}

func TestWebSocketFrames(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	big := `{"type":"snapshot","features":[` + strings.Repeat(pgFeature+",", 100) + pgFeature + `]}` // larger than the read buffer
	medium := strings.Repeat("x", 300)
	var stream []byte
	for _, f := range [][]byte{wsFrame(1, big), wsFrame(1, "short"), wsFrame(9, "hi"), wsFrame(1, medium), wsFrame(8, "\x03\xf0too slow")} {
		stream = append(stream, f...)
	}
	go func() { server.Write(stream) }()
	pong := make(chan []byte, 1)
	go func() {
		b := make([]byte, 8)
		n, _ := io.ReadFull(server, b)
		pong <- b[:n]
	}()
	tc := &timedConn{Conn: client, epoch: time.Now()}
	w := &wsClient{c: tc, br: bufio.NewReaderSize(tc, 16<<10)}
	for _, want := range []string{big, "short", medium} {
		msg, err := w.ReadMessage()
		if err != nil || string(msg) != want {
			t.Fatalf("frame: %d bytes, %v; want %d bytes", len(msg), err, len(want))
		}
	}
	if _, err := w.ReadMessage(); err == nil || w.closed != "1008 too slow" {
		t.Errorf("close: %v, reason %q", err, w.closed)
	}
	p := <-pong
	if len(p) != 8 || p[0] != 0x8A || p[1] != 0x82 || p[6]^p[2] != 'h' || p[7]^p[3] != 'i' {
		t.Errorf("pong % x: want a masked pong echoing hi", p)
	}
	if tc.last <= 0 {
		t.Error("no arrival time recorded")
	}
}

func TestSSEEvents(t *testing.T) {
	long := `{"type":"snapshot","features":[` + strings.Repeat(pgFeature+",", 100) + pgFeature + `]}`
	stream := ": hello\n\n" +
		"id: 17\nevent: snapshot\ndata: " + long + "\n\n" +
		": heartbeat\r\n\r\n" +
		"id: 18\r\nevent: update\r\ndata: {\"type\":\"update\",\r\ndata: \"feature\":{\"id\":1}}\r\n\r\n" +
		"retry: 1000\nevent: remove\ndata:{\"type\":\"remove\",\"id\":2}\n\n" +
		"data: unterminated"
	s := newSSEReader(nil, strings.NewReader(stream))
	for _, want := range []struct{ data, id string }{
		{long, "17"},
		{"{\"type\":\"update\",\n\"feature\":{\"id\":1}}", "18"},
		{`{"type":"remove","id":2}`, "18"},
	} {
		msg, err := s.ReadMessage()
		if err != nil || string(msg) != want.data || s.LastID() != want.id {
			t.Fatalf("event: %.60q id %q, %v; want %.60q id %q", msg, s.LastID(), err, want.data, want.id)
		}
	}
	if msg, err := s.ReadMessage(); err == nil {
		t.Errorf("an unterminated event was delivered: %q", msg)
	}
}

// An event stream never ends: closing the client must not wait for it.
func TestSSECloseMidStream(t *testing.T) {
	client, server := net.Pipe()
	go func() {
		io.WriteString(server, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
		for {
			ev := "event: update\ndata: {\"type\":\"update\"}\n\n:\n\n"
			if _, err := fmt.Fprintf(server, "%x\r\n%s\r\n", len(ev), ev); err != nil {
				return
			}
		}
	}()
	tc := &timedConn{Conn: client, epoch: time.Now()}
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newSSEReader(tc, resp.Body)
	if msg, err := s.ReadMessage(); err != nil || string(msg) != `{"type":"update"}` {
		t.Fatalf("event %q, %v", msg, err)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for the end of an endless stream")
	}
	server.Close()
}

func TestFanoutLatencyAndLoss(t *testing.T) {
	ms := func(n int) int64 { return int64(n) * int64(time.Millisecond) }
	start := []personAt{{id: 1, version: 5, at: geo.Point{Lon: 4.8, Lat: 52.3}}, {id: 2, version: 0, at: geo.Point{Lon: 5.0, Lat: 52.5}}}
	// Two slots each: person 1's third move on goes to the overflow map.
	w := newFanoutWriter(start, time.Now(), 2)
	w.moves = make([][]move, 1)
	win := span{from: ms(100), to: ms(1100)}
	answered := func(id int32, at int64, to geo.Point) {
		w.ver[id]++
		w.answered(0, move{id: id, version: w.ver[id], to: to, at: at})
	}
	update := func(id, v int) []byte {
		return []byte(`{"type":"update","feature":{"type":"Feature","id":` + strconv.Itoa(id) + `,"properties":{"version":` + strconv.Itoa(v) + `}}}`)
	}
	s := newFanoutSub(2, nil, 8)
	s.seen[1], s.seen[2] = 5, 0                          // as from the snapshot
	answered(1, ms(50), geo.Point{Lon: 4.81, Lat: 52.3}) // v6, warm-up: no sample
	s.handle(update(1, 6), ms(52), w, win)
	answered(1, ms(200), geo.Point{Lon: 4.82, Lat: 52.3}) // v7
	s.handle(update(1, 7), ms(203), w, win)
	s.handle(update(1, 8), ms(299), w, win) // beats its answer
	answered(1, ms(300), geo.Point{Lon: 4.83, Lat: 52.3})
	s.handle(update(1, 7), ms(305), w, win)               // a repeat
	answered(2, ms(400), geo.Point{Lon: 5.01, Lat: 52.5}) // v1: never delivered
	answered(2, ms(500), geo.Point{Lon: 5.02, Lat: 52.5}) // v2
	s.handle(update(2, 2), ms(510), w, win)
	answered(1, ms(600), geo.Point{Lon: 4.84, Lat: 52.3}) // v9: lost
	if _, ok := w.answer(2, 3); ok {
		t.Error("an unanswered version has an answer time")
	}
	if early, unmatched := s.settle(w, win); early != 1 || unmatched != 0 {
		t.Errorf("early %d unmatched %d", early, unmatched)
	}
	want := []uint32{3000, 10000, 0}
	if len(s.lat) != len(want) || s.lat[0] != want[0] || s.lat[1] != want[1] || s.lat[2] != want[2] {
		t.Errorf("latencies %v µs, want %v", s.lat, want)
	}
	if s.updates.Load() != 5 || s.stale != 1 || s.skipped != 1 || s.inWindow != 4 {
		t.Errorf("updates %d stale %d skipped %d in window %d", s.updates.Load(), s.stale, s.skipped, s.inWindow)
	}
	log := w.log(start)
	if log[1][0].from != start[0].at || log[1][1].from != log[1][0].to {
		t.Errorf("move log does not chain positions: %+v", log[1])
	}
	e := s.expect(log, win)
	if e.total != 6 || e.inWindow != 5 || e.lost != 1 {
		t.Errorf("everyone: %+v, want 6 moves, 5 in the window, 1 person lost", e)
	}
	// A box around person 1 only: person 2's moves do not concern it.
	box := &geo.BBox{MinLon: 4.7, MinLat: 52.2, MaxLon: 4.9, MaxLat: 52.4}
	s.box = box
	if e := s.expect(log, win); e.total != 4 || e.lost != 1 {
		t.Errorf("bbox: %+v, want 4 moves, 1 lost", e)
	}
	// Moving out of the box concerns it (the map drops the marker); moving
	// about outside does not.
	log[1][3].to, log[1][3].from = geo.Point{Lon: 5.5, Lat: 52.3}, geo.Point{Lon: 4.83, Lat: 52.3}
	if e := s.expect(log, win); e.total != 4 {
		t.Errorf("move out: %+v, want it counted", e)
	}
	log[1][3].from = geo.Point{Lon: 5.4, Lat: 52.3}
	if e := s.expect(log, win); e.total != 3 || e.lost != 0 {
		t.Errorf("move outside: %+v, want 3 moves and nothing lost", e)
	}
	res := fanoutResult{Scenario: fanoutPresets[0], PostedRate: 500, Connected: 1000}
	for _, us := range s.lat {
		res.Lat = append(res.Lat, time.Duration(us)*time.Microsecond)
	}
	slices.Sort(res.Lat)
	if p := percentile(res.Lat, 99); p != 10*time.Millisecond || !res.met() {
		t.Errorf("p99 %v, met %v: want 10ms and met", p, res.met())
	}
	for _, spoil := range []func(r *fanoutResult){
		func(r *fanoutResult) { r.Lost = 1 },
		func(r *fanoutResult) { r.Missing = 1 },
		func(r *fanoutResult) { r.Closed = 1 },
		func(r *fanoutResult) { r.PostedRate = 400 },
		func(r *fanoutResult) { r.Lat = append(r.Lat, time.Second, time.Second) },
		func(r *fanoutResult) { r.Lat = nil },
	} {
		r := res
		spoil(&r)
		if r.met() {
			t.Errorf("met with %+v", r)
		}
	}
	if c := res.cells(); c[3] != "500 (500)" || c[5] != "3.00 / 10.0 / 10.0 / 10.0 ms" || c[9] != "yes" {
		t.Errorf("cells %q", c)
	}
}

func TestFanoutOptions(t *testing.T) {
	sc, err := parseScenarios("A, c,50@200,1000@5000/bbox")
	if err != nil || len(sc) != 4 || sc[0].Subs != 1000 || sc[0].Rate != 500 || sc[0].P99 != 50*time.Millisecond ||
		!sc[1].BBox || sc[1].Rate != 5000 || sc[2].Subs != 50 || sc[2].Rate != 200 || sc[2].BBox || sc[2].P99 != 0 || !sc[3].BBox {
		t.Errorf("scenarios %+v, %v", sc, err)
	}
	for _, bad := range []string{"D", "50", "0@10", "10@0", "a@b", "10@10/box"} {
		if _, err := parseScenarios(bad); err == nil {
			t.Errorf("-fanout %q accepted", bad)
		}
	}
	if _, err := parseTransports("ws,poll"); err == nil {
		t.Error("-fanout-transports poll accepted")
	}
	o, err := parseOptions([]string{"-runs", "fanout", "-people", "1000"}, io.Discard)
	if err != nil || !o.has("fanout") || len(o.Fanout) != 2 || len(o.FanoutTransports) != 2 || o.FanoutDuration != 10*time.Second {
		t.Errorf("fanout flags: %+v, %v", o, err)
	}
	if _, err := parseOptions([]string{"-runs", "fanout"}, io.Discard); err == nil {
		t.Error("fanout with 100,000 people (snapshots of 30 MB each) accepted")
	}
	if o, _ := parseOptions(nil, io.Discard); o.has("fanout") {
		t.Error("fanout is a default run")
	}
}

func TestFanoutGeometry(t *testing.T) {
	c := defaultCity
	r := newRand(3)
	for range 200 {
		b := tenthOfCity(c, r)
		area := (b.MaxLat - b.MinLat) * (b.MaxLon - b.MinLon) / (4 * c.DLat * c.DLon)
		if math.Abs(area-0.1) > 0.001 || b.MinLat < c.Lat-c.DLat-1e-6 || b.MaxLon > c.Lon+c.DLon+1e-6 {
			t.Fatalf("box %+v: %.4f of the city, or outside it", b, area)
		}
		if _, err := geo.ParseBBox(bboxParam(b)); err != nil {
			t.Fatalf("bbox param %q: %v", bboxParam(b), err)
		}
	}
	p := geo.Point{Lat: c.Lat + c.DLat, Lon: c.Lon - c.DLon}
	for range 1000 {
		q := c.step(p, r)
		if math.Abs(q.Lat-p.Lat)*111320 > walkStep+1 || q.Lat > c.Lat+c.DLat || q.Lon < c.Lon-c.DLon {
			t.Fatalf("step %+v -> %+v leaves the city or strides too far", p, q)
		}
		p = q
	}
	if d, err := parseStatCPU("4242 (whereabouts (x)) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9"); err != nil || d != 3*time.Second {
		t.Errorf("stat CPU %v, %v; want 3s", d, err)
	}
	if _, err := parseStatCPU("garbage"); err == nil {
		t.Error("garbage stat parsed")
	}
	// user nice system idle iowait irq softirq steal guest: idle and
	// iowait are not busy, guest is inside user.
	stat := "cpu  300 10 100 5000 40 0 60 30 25 0\ncpu0 150 5 50 2500 20 0 30 15 12 0\n"
	if d, err := parseMachineBusy(stat); err != nil || d != 5*time.Second {
		t.Errorf("machine busy %v, %v; want 5s", d, err)
	}
	if _, err := parseMachineBusy("intr 1 2 3\n"); err == nil {
		t.Error("a /proc/stat without its cpu line parsed")
	}
}

// The server's own stream has no framing (it ends with the connection), as
// its hijacked SSE writes it; the client reads it straight from the
// connection's buffer, events split across writes included.
func TestSSEUnframedStream(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		http.ReadRequest(bufio.NewReader(conn))
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\nretry: 2000\n\nid: 5\nevent: update\ndata: {\"type\":")
		time.Sleep(20 * time.Millisecond)
		io.WriteString(conn, "\"update\"}\n\nid: 6\nevent: remove\ndata: {\"type\":\"remove\",\"id\":2}\n\n")
		time.Sleep(time.Second)
	}()
	s, err := dialSSE(context.Background(), ln.Addr().String(), "/api/v1/events", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, want := range []struct{ data, id string }{{`{"type":"update"}`, "5"}, {`{"type":"remove","id":2}`, "6"}} {
		msg, err := s.ReadMessage()
		if err != nil || string(msg) != want.data || s.LastID() != want.id {
			t.Fatalf("event %q id %q, %v; want %q id %q", msg, s.LastID(), err, want.data, want.id)
		}
	}
}
