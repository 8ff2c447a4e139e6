package notify

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A Server-Sent Events client that stops reading is dropped like a
// WebSocket one, and once it reads again its last event says why.
func TestSSEDropsATooSlowClientAndSaysWhy(t *testing.T) {
	h := newHub(HubConfig{MaxQueueBytes: 256 << 10})
	sse := &SSE{Hub: h, Source: newFakeSource(), Log: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sse.Serve(w, r, Subscription{})
	}))
	t.Cleanup(func() {
		h.Close()
		srv.Close()
		waitFor(t, "the SSE connection to close", func() bool { return sse.Open() == 0 })
	})
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("answer %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	waitFor(t, "the subscriber", func() bool { return subscribers(h) == 1 })
	var id int64
	for subscribers(h) == 1 { // nobody reads meanwhile
		id++
		if id > 20_000 {
			t.Fatal("the slow client was never dropped")
		}
		publish(t, h, paddedFeature(t, id, 8<<10))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var event, last string
	deadline := time.AfterFunc(10*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok && event == "error" {
			last = v
		}
	}
	if !strings.Contains(last, `"code":"too_slow"`) {
		t.Fatalf("the stream ended after %d events without a too_slow error event (last error %q)", id, last)
	}
}

// Over HTTP/2 the connection cannot be taken over: the client is told so,
// and the subscription is not left behind.
func TestSSEOverHTTP2AnswersWithAClearError(t *testing.T) {
	h := newHub(HubConfig{})
	sse := &SSE{Hub: h, Source: newFakeSource(), Log: slog.New(slog.DiscardHandler)}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sse.Serve(w, r, Subscription{})
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusHTTPVersionNotSupported ||
		!strings.Contains(string(body), `"code":"http_version_not_supported"`) {
		t.Fatalf("HTTP/%d %d %s", resp.ProtoMajor, resp.StatusCode, body)
	}
	if n := subscribers(h); n != 0 {
		t.Errorf("%d subscribers left behind", n)
	}
}
