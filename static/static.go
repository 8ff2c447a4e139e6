// Package static serves the live map page: its HTML, CSS, JavaScript modules
// and the vendored Leaflet, embedded so a deployment is one binary that needs
// nothing from the internet.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed index.html *.css *.js vendor
var files embed.FS

// contentTypes pins the types the page depends on: browsers refuse module
// scripts not served as JavaScript, and Go would otherwise take them from the
// host's /etc/mime.types, which differs between machines.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
}

// Handler serves the page at / and its files below it. Directory listings
// are not served.
//
// Every file gets a strong ETag from its content, because embedded files have
// no modification time for the usual validators. The page's own files are
// "no-cache": browsers revalidate them on each load, so a new release shows
// at once, at the cost of a 304. Vendored files change only when Leaflet is
// upgraded, so browsers may keep them for a week without asking.
func Handler() http.Handler {
	etags := hashFiles()
	server := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		} else if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if etag, ok := etags[name]; ok {
			h.Set("ETag", etag)
			if ct, ok := contentTypes[path.Ext(name)]; ok {
				h.Set("Content-Type", ct)
			}
		}
		h.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(name, "vendor/") {
			h.Set("Cache-Control", "public, max-age=604800")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		server.ServeHTTP(w, r)
	})
}

// hashFiles maps each embedded file's path to a quoted ETag.
func hashFiles() map[string]string {
	etags := make(map[string]string)
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		etags[name] = `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
		return nil
	})
	if err != nil {
		// The walk reads only what the compiler embedded; failing here means
		// the binary itself is broken.
		panic("static: reading embedded files: " + err.Error())
	}
	return etags
}
