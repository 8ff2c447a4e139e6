package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"whereabouts/store"
)

// Limits of GET /api/v1/people/{id}/history: a page as large as the largest
// batch a phone may upload, about 2 MB of JSON.
const (
	historyDefault = 100
	historyMax     = 10_000
)

// history answers one page of a person's fixes, oldest first, as Point
// Features or (format=linestring) one LineString Feature. A device reads its
// own history, and others' only when devices may see others (as getPerson).
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	id, err := s.readablePerson(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q, line, err := parseHistory(params(r.URL.Query()), id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	page, err := s.reads.History(r.Context(), q)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	next := ""
	if page.Next != nil {
		next = encodeCursor(*page.Next)
	}
	if line {
		writeRawJSON(w, http.StatusOK, lineFeature(id, page.Fixes, next))
		return
	}
	features := make([][]byte, len(page.Fixes))
	for i, f := range page.Fixes {
		features[i] = f.Feature
	}
	writeRawJSON(w, http.StatusOK, featureCollection(features, next))
}

// parseHistory reads from, to ([from, to), either may be absent), limit,
// cursor and format (points, the default, or linestring).
func parseHistory(p params, id int64) (store.HistoryQuery, bool, error) {
	q := store.HistoryQuery{PersonID: id}
	var err error
	if q.From, err = p.time("from"); err != nil {
		return q, false, err
	}
	if q.To, err = p.time("to"); err != nil {
		return q, false, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
		return q, false, badParam("from is after to")
	}
	if q.Limit, err = p.limit(historyDefault, historyMax); err != nil {
		return q, false, err
	}
	if c := p.get("cursor"); c != "" {
		k, ok := decodeCursor(c)
		if !ok {
			return q, false, badParam("cursor is not one this server returned as next_cursor")
		}
		q.After = &k
	}
	switch f := p.get("format"); f {
	case "", "points":
		return q, false, nil
	case "linestring":
		return q, true, nil
	default:
		return q, false, badParam("format must be points or linestring, not %q", f)
	}
}

// lineFeature is the page as one LineString Feature. from and to are the
// times of its first and last fix; a line needs two positions (RFC 7946), so
// a page of fewer has a null geometry.
func lineFeature(id int64, fixes []store.HistoryFix, next string) []byte {
	props := struct {
		PersonID int64   `json:"person_id"`
		From     *string `json:"from"`
		To       *string `json:"to"`
		Count    int     `json:"count"`
	}{PersonID: id, Count: len(fixes)}
	if n := len(fixes); n > 0 {
		from, to := apiTime(fixes[0].Key.RecordedAt), apiTime(fixes[n-1].Key.RecordedAt)
		props.From, props.To = &from, &to
	}
	var buf bytes.Buffer
	buf.WriteString(`{"type":"Feature","geometry":`)
	if len(fixes) < 2 {
		buf.WriteString("null")
	} else {
		buf.WriteString(`{"type":"LineString","coordinates":[`)
		for i, f := range fixes {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(f.Coordinates)
		}
		buf.WriteString("]}")
	}
	p, _ := json.Marshal(props)
	buf.WriteString(`,"properties":`)
	buf.Write(p)
	writeNextCursor(&buf, next)
	buf.WriteString("}")
	return buf.Bytes()
}

// apiTime writes a time as the database does in every Feature.
func apiTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// A cursor is the key of the last fix sent: version, Unix microseconds and
// the exact lon and lat (shortest round-trip form), base64url so that it is
// opaque and safe in a URL.
const cursorVersion = "h1"

func encodeCursor(k store.HistoryKey) string {
	s := strings.Join([]string{cursorVersion, strconv.FormatInt(k.RecordedAt.UnixMicro(), 10),
		strconv.FormatFloat(k.Lon, 'g', -1, 64), strconv.FormatFloat(k.Lat, 'g', -1, 64)}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeCursor(c string) (store.HistoryKey, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return store.HistoryKey{}, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 4 || parts[0] != cursorVersion {
		return store.HistoryKey{}, false
	}
	micros, err1 := strconv.ParseInt(parts[1], 10, 64)
	lon, err2 := strconv.ParseFloat(parts[2], 64)
	lat, err3 := strconv.ParseFloat(parts[3], 64)
	inRange := math.Abs(lon) <= 180 && math.Abs(lat) <= 90 // false for NaN
	if err1 != nil || err2 != nil || err3 != nil || !inRange || micros < 0 || micros > maxUnixMilli*1000 {
		return store.HistoryKey{}, false
	}
	return store.HistoryKey{RecordedAt: time.UnixMicro(micros).UTC(), Lon: lon, Lat: lat}, true
}
