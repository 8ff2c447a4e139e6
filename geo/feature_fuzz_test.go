package geo

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/geojson"
)

// oracleDecode is DecodePersonFeature written the plain way, with
// encoding/json and go-geom's geometry decoder: the hand-walking decoder
// must never accept what this refuses, nor read different values.
func oracleDecode(b []byte) (PersonEvent, bool) {
	var f struct {
		Type       string            `json:"type"`
		ID         json.RawMessage   `json:"id"`
		Geometry   *geojson.Geometry `json:"geometry"`
		Properties struct {
			Version    *float64 `json:"version"`
			Deleted    bool     `json:"deleted"`
			RecordedAt *string  `json:"recorded_at"`
		} `json:"properties"`
	}
	if json.Unmarshal(b, &f) != nil || f.Type != "Feature" {
		return PersonEvent{}, false
	}
	raw := string(f.ID)
	if u, err := strconv.Unquote(raw); err == nil {
		raw = u
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || f.Properties.Version == nil || *f.Properties.Version < 0 {
		return PersonEvent{}, false
	}
	ev := PersonEvent{ID: id, Version: int64(*f.Properties.Version)}
	if f.Properties.Deleted {
		ev.Deleted = true
		return ev, true
	}
	var g geom.T
	if f.Geometry != nil {
		g, _ = f.Geometry.Decode()
	}
	pt, ok := g.(*geom.Point)
	if !ok || pt.Empty() {
		return PersonEvent{}, false
	}
	ev.Point = Point{Lon: pt.X(), Lat: pt.Y()}
	if ev.Point.Validate() != nil {
		return PersonEvent{}, false
	}
	if s := f.Properties.RecordedAt; s != nil {
		t, err := time.Parse(time.RFC3339Nano, *s)
		if err != nil {
			return PersonEvent{}, false
		}
		ev.RecordedAt = t
	}
	return ev, true
}

func FuzzDecodePersonFeature(f *testing.F) {
	for _, seed := range []string{
		`{"type" : "Feature", "id" : 5, "geometry" : {"type" : "Point", "coordinates" : [4.831397468758549, 52.1904345741503]}, "properties" : {"name":"p5","device_id":"phone-5","recorded_at":"2026-11-28T19:03:56.130077Z","version":5,"battery":0.8}}`,
		`{"type":"Feature","id":7,"geometry":null,"properties":{"deleted":true,"version":4}}`,
		`{"type":"Feature","id":"7","geometry":{"type":"Point","coordinates":[1,2,3]},"properties":{"version":1,"name":"a \"quoted\" {name}","deleted":false}}`,
		`{"type":"Feature","id":1,"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]},"properties":{"version":1}}`,
		`{"type":"Feature","id":1,"id":2,"geometry":{"type":"Point","coordinates":[0,0]},"properties":{"version":1,"deleted":"true"}}`,
		`{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[0,0]},"properties":{"version":1,"recorded_at":"2026-01-02T03:04:05\u002e678Z"}}`,
		`[1,2]`, `{}`, `{"type":"Feature"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if foldedKeys(b) {
			return // encoding/json matches keys regardless of case; ours are exact
		}
		got, err := DecodePersonFeature(b)
		if err != nil {
			return // refusing what the oracle takes is allowed: escaped keys or values, keys in other case
		}
		want, ok := oracleDecode(b)
		if !ok {
			t.Fatalf("accepted %s, which the plain decoder refuses (got %+v)", b, got)
		}
		if got.ID != want.ID || got.Version != want.Version || got.Deleted != want.Deleted ||
			got.Point != want.Point || !got.RecordedAt.Equal(want.RecordedAt) {
			t.Fatalf("%s: got %+v, want %+v", b, got, want)
		}
	})
}

// foldedKeys reports whether b may hold one of the Feature's keys in another
// case (or spelled with non-ASCII letters that fold to it), which the oracle
// would read and the decoder, rightly, not.
func foldedKeys(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	lower := bytes.ToLower(b)
	for _, k := range []string{"type", "id", "geometry", "properties", "version", "deleted", "recorded_at", "coordinates"} {
		key := []byte(`"` + k + `"`)
		if bytes.Count(lower, key) != bytes.Count(b, key) {
			return true
		}
	}
	return false
}
