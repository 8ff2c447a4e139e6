package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"whereabouts/pgcluster/pgtest"
)

// browser starts headless Chromium for one test. Chromium is installed by
// `make test`; without it this test fails rather than pass unseen.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatal("Chromium not found: run `make test` (it installs chromium) or apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1200, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser; a deadline on it would kill it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// waitFor polls a page expression until it is true.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (%s)", what, expr)
}

func TestMapPageShowsAMarkerAndMovesIt(t *testing.T) {
	url, _, _ := startServe(t, map[string]string{"WHEREABOUTS_ADMIN_TOKEN": "admin-secret"},
		"-database-url", pgtest.NewDB(t), "-tile-url", "none")
	id, token := createPerson(t, url, "admin-secret", "Ada")
	ctx := browser(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/#token="+token)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the stream to go live over a WebSocket",
		`window.whereabouts && whereabouts.status === "live" && whereabouts.transport === "websocket"`)

	move(t, url, token, id, 52.3702, 4.8952)
	marker := fmt.Sprintf(`.leaflet-marker-icon[data-id="%d"]`, id)
	waitFor(t, ctx, "the marker", fmt.Sprintf(`!!document.querySelector('%s')`, marker))
	before := markerTransform(t, ctx, marker)

	// Far enough to move the marker on screen at any zoom: Amsterdam to Paris.
	move(t, url, token, id, 48.8566, 2.3522)
	waitFor(t, ctx, "the marker to move", fmt.Sprintf(
		`whereabouts.people().some(p => p.id === %d && p.lat === 48.8566 && p.lon === 2.3522 && p.version === 2)`, id))
	waitFor(t, ctx, "the marker's place on screen to change", fmt.Sprintf(
		`document.querySelector('%s').style.transform !== %q`, marker, before))
	listed, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		fmt.Sprintf(`document.querySelector('#people li[data-id="%d"]').textContent`, id)))
	if err != nil || !bytes.Contains([]byte(listed), []byte("Ada")) {
		t.Fatalf("side list entry: %q %v", listed, err)
	}
	saveScreenshot(t, ctx, "map.png")
}

func markerTransform(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector('%s').style.transform`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// saveScreenshot keeps what the page looked like as a test artifact in
// ./artifacts at the top of the repository.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := filepath.Join("..", "..", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func createPerson(t *testing.T, url, admin, name string) (int64, string) {
	t.Helper()
	var out struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	status := request(t, "POST", url+"/api/v1/people", admin, fmt.Sprintf(`{"name":%q}`, name), &out)
	if status != http.StatusCreated {
		t.Fatalf("create person: %d", status)
	}
	return out.ID, out.Token
}

func move(t *testing.T, url, token string, id int64, lat, lon float64) {
	t.Helper()
	body := fmt.Sprintf(`{"lat":%g,"lon":%g}`, lat, lon)
	if status := request(t, "PUT", fmt.Sprintf("%s/api/v1/people/%d/location", url, id), token, body, nil); status != 200 {
		t.Fatalf("move: %d", status)
	}
}

func request(t *testing.T, method, url, token, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// openPage opens the map signed in with token, after adding scripts that
// run before the page's own (stand-ins for a network, or recorders).
func openPage(t *testing.T, url, token string, scripts ...string) context.Context {
	t.Helper()
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for _, src := range scripts {
				if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
					page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
					return err
				}
			}
			return nil
		}),
		chromedp.Navigate(url+"/#token="+token))
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// blockers stand in for a network that refuses a transport: the browser's
// constructor exists, but every connection fails before it opens.
const (
	blockWebSocket = `window.WebSocket = class {
		constructor() { setTimeout(() => this.onclose && this.onclose({ code: 1006 }), 20); }
		close() {}
	};`
	blockEventSource = `window.EventSource = class {
		constructor() { setTimeout(() => this.onerror && this.onerror(new Event('error')), 20); }
		addEventListener() {}
		removeEventListener() {}
		close() {}
	};`
)

func TestMapPageFallsBackWhenWebSocketsAreBlocked(t *testing.T) {
	url, _, _ := startServe(t, map[string]string{"WHEREABOUTS_ADMIN_TOKEN": "admin-secret"},
		"-database-url", pgtest.NewDB(t), "-tile-url", "none", "-poll-timeout", "5s")
	for _, tc := range []struct{ block, want string }{
		{blockWebSocket, "sse"},
		{blockWebSocket + blockEventSource, "poll"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			id, token := createPerson(t, url, "admin-secret", "Ada "+tc.want)
			move(t, url, token, id, 52.3702, 4.8952)
			ctx := openPage(t, url, token, tc.block)
			waitFor(t, ctx, "the stream to go live over "+tc.want, fmt.Sprintf(
				`window.whereabouts && whereabouts.status === "live" && whereabouts.transport === %q`, tc.want))
			// Moves arrive over the fallback, not only the first snapshot.
			for i, lat := range []float64{48.8566, 50.8503} {
				move(t, url, token, id, lat, 2.3522)
				waitFor(t, ctx, "the move over "+tc.want, fmt.Sprintf(
					`whereabouts.people().some(p => p.id === %d && p.lat === %g && p.version === %d)`, id, lat, i+2))
			}
		})
	}
}

// recordSockets wraps the page's WebSocket so a test can see the URLs it
// opened and drop its connections, as a flaky network would.
const recordSockets = `(() => {
	const Native = window.WebSocket;
	window.__sockets = [];
	window.__socketURLs = [];
	window.WebSocket = class extends Native {
		constructor(url, protocols) {
			super(url, protocols);
			window.__sockets.push(this);
			window.__socketURLs.push(String(url));
		}
	};
})();`

// A page whose stream drops reconnects with the cursor of the last message
// it got, so what moved meanwhile arrives as updates, not a new snapshot.
func TestMapPageResumesByCursorAfterADrop(t *testing.T) {
	url, _, _ := startServe(t, map[string]string{"WHEREABOUTS_ADMIN_TOKEN": "admin-secret"},
		"-database-url", pgtest.NewDB(t), "-tile-url", "none")
	id, token := createPerson(t, url, "admin-secret", "Ada")
	move(t, url, token, id, 52.37, 4.89)
	ctx := openPage(t, url, token, recordSockets)
	waitFor(t, ctx, "the stream to go live", `window.whereabouts && whereabouts.status === "live"`)
	move(t, url, token, id, 52.38, 4.89)
	waitFor(t, ctx, "the first move", fmt.Sprintf(`whereabouts.people().some(p => p.id === %d && p.version === 2)`, id))

	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sockets.forEach(s => s.close()), true`)); err != nil {
		t.Fatal(err)
	}
	move(t, url, token, id, 52.39, 4.89) // while the page is away
	waitFor(t, ctx, "the page to reconnect", `window.__socketURLs.length === 2 && whereabouts.status === "live"`)
	waitFor(t, ctx, "the move made while away", fmt.Sprintf(`whereabouts.people().some(p => p.id === %d && p.version === 3 && p.lat === 52.39)`, id))
	second, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__socketURLs[1]`))
	if err != nil || !strings.Contains(second, "cursor=") {
		t.Fatalf("the page reconnected to %q (%v), want a URL with its cursor", second, err)
	}
}

// While the server says it is not ready (its database away), a WebSocket
// that fails is not to blame: the page keeps it and retries, instead of
// falling back to long-polling for good.
func TestMapPageKeepsItsWebSocketWhileTheServerIsNotReady(t *testing.T) {
	url, _, _ := startServe(t, map[string]string{"WHEREABOUTS_ADMIN_TOKEN": "admin-secret"},
		"-database-url", pgtest.NewDB(t), "-tile-url", "none")
	_, token := createPerson(t, url, "admin-secret", "Ada")
	const failingAndNotReady = `window.__wsAttempts = 0;
	window.WebSocket = class {
		constructor() {
			window.__wsAttempts++;
			setTimeout(() => this.onclose && this.onclose({ code: 1006 }), 20);
		}
		close() {}
	};
	const nativeFetch = window.fetch;
	window.fetch = (input, init) => String(input).endsWith('/readyz')
		? Promise.resolve(new Response('{"error":{"code":"unavailable","message":"down"}}', { status: 503 }))
		: nativeFetch(input, init);`
	ctx := openPage(t, url, token, failingAndNotReady)
	waitFor(t, ctx, "a second WebSocket attempt", `window.__wsAttempts >= 2`)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`whereabouts.transport + " " + whereabouts.status`))
	if err != nil || got != "websocket reconnecting" {
		t.Fatalf("page: %q (%v), want it still on websocket, reconnecting", got, err)
	}
}
