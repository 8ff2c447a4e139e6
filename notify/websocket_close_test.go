package notify

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestWebSocketClosesATooSlowClientAndServesTheOthers(t *testing.T) {
	const maxBytes, slowClients = 256 << 10, 3
	e := newWSEnv(t, HubConfig{MaxQueueBytes: maxBytes}, &WebSocket{WriteTimeout: 10 * time.Second}, Scope{})
	var slow []*websocket.Conn
	for range slowClients {
		slow = append(slow, e.dial(t, "", nil, nil)) // never read until dropped
	}
	fast := e.dial(t, "", nil, nil)
	read(t, fast)
	received := make(chan string, 1)
	go func() {
		for {
			fast.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, data, err := fast.ReadMessage()
			if err != nil {
				close(received)
				return
			}
			received <- summarizeOne(t, data)
		}
	}()
	var id int64
	var peak int64
	for subscribers(e.hub) > 1 {
		id++
		if id > 20_000 {
			t.Fatal("the slow clients were never dropped")
		}
		publish(t, e.hub, paddedFeature(t, id, 8<<10))
		// The fast one gets each message before the next is published.
		if got, want := <-received, fmt.Sprintf("update %d@1", id); got != want {
			t.Fatalf("fast client got %s, want %s", got, want)
		}
		peak = max(peak, e.hub.Stats().QueueBytes)
	}
	t.Logf("slow clients dropped after %d messages; queued bytes peaked at %d", id, peak)
	// Memory held for stalled clients is bounded by their queues' bound
	// (the kernel's socket buffers take the first megabytes) and freed.
	if peak > slowClients*(maxBytes+9<<10) {
		t.Errorf("queued bytes peaked at %d, over %d slow clients x %d bytes", peak, slowClients, maxBytes)
	}
	if q := e.hub.Stats().QueueBytes; q != 0 {
		t.Errorf("%d bytes still queued after the slow clients were dropped", q)
	}
	if n := e.hub.Stats().Dropped; n != slowClients {
		t.Errorf("hub counted %d dropped subscribers, want %d", n, slowClients)
	}
	for _, c := range slow {
		ce := readClose(t, c)
		if ce.Code != websocket.ClosePolicyViolation || ce.Text != "too slow: queue overflow" {
			t.Errorf("slow client closed with %d %q, want 1008 %q", ce.Code, ce.Text, "too slow: queue overflow")
		}
	}
	publish(t, e.hub, feature(id+1, 1, 0, 0))
	if got, want := <-received, fmt.Sprintf("update %d@1", id+1); got != want {
		t.Errorf("fast client got %s after the drop, want %s", got, want)
	}
}

func TestWebSocketHubCloseSaysGoingAway(t *testing.T) {
	e := newWSEnv(t, HubConfig{}, &WebSocket{}, Scope{})
	c := e.dial(t, "", nil, nil)
	read(t, c)
	e.hub.Close()
	if ce := readClose(t, c); ce.Code != websocket.CloseGoingAway {
		t.Errorf("closed with %d %q, want 1001", ce.Code, ce.Text)
	}
	e.waitClosed(t)
}

func TestWebSocketClosesWhenTheClientLeaves(t *testing.T) {
	e := newWSEnv(t, HubConfig{}, &WebSocket{}, Scope{})
	polite := e.dial(t, "", nil, nil)
	read(t, polite)
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	polite.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	if ce := readClose(t, polite); ce.Code != websocket.CloseNormalClosure {
		t.Errorf("server answered close with %d, want 1000", ce.Code)
	}
	rude := e.dial(t, "", nil, nil)
	read(t, rude)
	rude.NetConn().Close()
	e.waitClosed(t)
	if n := subscribers(e.hub); n != 0 {
		t.Errorf("hub still has %d subscribers", n)
	}
}

func TestWebSocketPingsAndDropsSilentClients(t *testing.T) {
	ws := &WebSocket{PingInterval: 20 * time.Millisecond, PongWait: 150 * time.Millisecond}
	e := newWSEnv(t, HubConfig{}, ws, Scope{})
	alive := e.dial(t, "", nil, nil)
	var pings atomic.Int64
	alive.SetPingHandler(func(data string) error {
		pings.Add(1)
		return alive.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	pong := make(chan string, 1)
	alive.SetPongHandler(func(data string) error { pong <- data; return nil })
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			if _, _, err := alive.ReadMessage(); err != nil {
				return
			}
		}
	})
	defer wg.Wait()
	defer alive.Close()

	silent := e.dial(t, "", nil, nil) // never reads, so never answers a ping
	_ = silent
	waitFor(t, "the silent client to be dropped", func() bool { return subscribers(e.hub) == 1 })
	time.Sleep(3 * ws.PongWait)
	if n := subscribers(e.hub); n != 1 {
		t.Errorf("hub has %d subscribers, want the live one only", n)
	}
	if pings.Load() < 3 {
		t.Errorf("live client saw %d pings", pings.Load())
	}
	alive.WriteControl(websocket.PingMessage, []byte("hello"), time.Now().Add(time.Second))
	select {
	case got := <-pong:
		if got != "hello" {
			t.Errorf("pong %q, want hello", got)
		}
	case <-time.After(5 * time.Second):
		t.Error("server never answered a ping")
	}
}

func TestWebSocketChecksTheOrigin(t *testing.T) {
	e := newWSEnv(t, HubConfig{}, &WebSocket{}, Scope{})
	host := strings.TrimPrefix(e.srv.URL, "http://")
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://" + host, true},
		{"https://evil.example", false},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		u := "ws://" + host + "/api/v1/stream"
		c, resp, err := websocket.DefaultDialer.Dial(u, h)
		if tc.ok != (err == nil) {
			t.Errorf("origin %q: err %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if err == nil {
			c.Close()
		} else if resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: status %d, want 403", tc.origin, resp.StatusCode)
		}
	}
}

func TestWebSocketAnswers503WithoutASnapshot(t *testing.T) {
	e := newWSEnv(t, HubConfig{}, &WebSocket{}, Scope{})
	e.src.err = errors.New("database down")
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/api/v1/stream"
	_, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err == nil {
		t.Fatal("upgraded without a snapshot")
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("status %d, content type %q; want 503 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// A client whose socket stays full is cut off by the write deadline even
// when its queue never overflows: the blocked write fails within the write
// timeout, and the stream is dropped.
func TestWebSocketWriteDeadlineCutsOffAStalledClient(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := newWSEnv(t, HubConfig{MaxQueueBytes: 1 << 30}, &WebSocket{WriteTimeout: timeout}, Scope{})
	e.dial(t, "", nil, nil) // never reads
	start := time.Now()
	for id := int64(1); subscribers(e.hub) > 0; id++ {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("a stalled client still subscribed after %d messages", id)
		}
		publish(t, e.hub, paddedFeature(t, id, 64<<10))
		time.Sleep(time.Millisecond)
	}
	if n := e.hub.Stats().Dropped; n != 0 {
		t.Errorf("the queue overflowed (%d dropped): the deadline was not what cut the client off", n)
	}
	t.Logf("stalled client cut off after %v", time.Since(start).Round(time.Millisecond))
}
