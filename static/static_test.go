package static_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"whereabouts/static"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(static.Handler())
	t.Cleanup(srv.Close)

	tests := []struct {
		name, path   string
		status       int
		contentType  string
		cacheControl string
	}{
		{"the page is served at the root", "/", 200, "text/html; charset=utf-8", "no-cache"},
		{"the entry module is served as JavaScript", "/app.js", 200, "text/javascript; charset=utf-8", "no-cache"},
		{"the stylesheet is served as CSS", "/style.css", 200, "text/css; charset=utf-8", "no-cache"},
		{"vendored Leaflet is cached for long", "/vendor/leaflet/leaflet.js", 200, "text/javascript; charset=utf-8", "public, max-age=604800"},
		{"Leaflet's images sit beside its CSS", "/vendor/leaflet/images/marker-icon.png", 200, "image/png", "public, max-age=604800"},
		{"directories are not listed", "/vendor/leaflet/", 404, "", ""},
		{"unknown files are not found", "/nope.js", 404, "", ""},
		{"Go sources are not embedded", "/static.go", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, srv.URL+tt.path, "")
			if res.StatusCode != tt.status {
				t.Fatalf("GET %s: status %d, want %d", tt.path, res.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if got := res.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("GET %s: Content-Type %q, want %q", tt.path, got, tt.contentType)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cacheControl {
				t.Errorf("GET %s: Cache-Control %q, want %q", tt.path, got, tt.cacheControl)
			}
		})
	}
}

func TestHandlerRevalidatesWithETag(t *testing.T) {
	srv := httptest.NewServer(static.Handler())
	t.Cleanup(srv.Close)

	etag := get(t, srv.URL+"/app.js", "").Header.Get("ETag")
	if etag == "" {
		t.Fatal("GET /app.js: no ETag")
	}
	if res := get(t, srv.URL+"/app.js", etag); res.StatusCode != http.StatusNotModified {
		t.Errorf("GET /app.js with If-None-Match: status %d, want 304", res.StatusCode)
	}
}

// A file renamed without updating its references would break the page only
// in a browser; this follows every local src, href and module import from
// the page and catches it here.
func TestEveryLocalReferenceIsServed(t *testing.T) {
	srv := httptest.NewServer(static.Handler())
	t.Cleanup(srv.Close)

	refs := regexp.MustCompile(`(?:src|href)="([^":]+)"|from '\./([^']+)'`)
	seen := map[string]bool{"/": true}
	queue := []string{"/"}
	for len(queue) > 0 {
		page := queue[0]
		queue = queue[1:]
		res := get(t, srv.URL+page, "")
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s answers %d", page, res.StatusCode)
			continue
		}
		for _, m := range refs.FindAllStringSubmatch(read(t, res), -1) {
			ref := "/" + strings.TrimPrefix(m[1]+m[2], "/")
			if !seen[ref] {
				seen[ref] = true
				queue = append(queue, ref)
			}
		}
	}
	for _, want := range []string{"/app.js", "/stream.js", "/vendor/leaflet/leaflet.js", "/vendor/leaflet/leaflet.css"} {
		if !seen[want] {
			t.Errorf("the page never refers to %s", want)
		}
	}
}

func get(t *testing.T, url, ifNoneMatch string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func read(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
