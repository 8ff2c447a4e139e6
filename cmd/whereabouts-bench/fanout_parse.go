package main

import (
	"bytes"
	"errors"
)

// The fan-out subscribers read hundreds of thousands of messages a second on
// the cores the server needs, so they never decode JSON: a message is
// classified and its person id and version found by a byte scan for keys.
// That is safe on these messages because a quote inside a JSON string is
// always escaped: the bytes `"id"` followed by a colon can only be a key.
// Key order is not relied on, except that the feature's own "id" is the
// first "id" key inside it (the trigger builds type, id, geometry,
// properties, and neither geometry nor properties has an "id" key).

type msgKind int

const (
	kindOther msgKind = iota // error messages, anything unknown
	kindUpdate
	kindSnapshot
	kindRemove
)

var errNoField = errors.New("field not found")

// parseMessage classifies one stream message; for an update it returns the
// feature's id and properties.version, for a remove the id.
func parseMessage(msg []byte) (kind msgKind, id, version int64, err error) {
	if id, version, ok := serverUpdate(msg); ok {
		return kindUpdate, id, version, nil
	}
	if feature, ok := afterKey(msg, "feature"); ok {
		if id, err = intAt(feature, "id"); err != nil {
			return kindUpdate, 0, 0, err
		}
		props, ok := afterKey(feature, "properties")
		if !ok {
			return kindUpdate, id, 0, errors.New("update without properties")
		}
		version, err = intAt(props, "version")
		return kindUpdate, id, version, err
	}
	if _, ok := afterKey(msg, "features"); ok {
		return kindSnapshot, 0, 0, nil
	}
	if t, ok := afterKey(msg, "type"); ok && bytes.HasPrefix(t, []byte(`"remove"`)) {
		id, err = intAt(msg, "id")
		return kindRemove, id, 0, err
	}
	return kindOther, 0, 0, nil
}

// The server's updates have one layout, notify's update message around
// the text of person_feature: {"type":"update","cursor":"<n>","feature":
// {"type" : "Feature", "id" : <id>, ... "version":<v>}}}, the version last
// when the move carries no readings, as the bench's moves do not.
const (
	updateHead  = `{"type":"update",`
	featureHead = `{"type" : "Feature", "id" : `
	versionKey  = `"version":`
)

// serverUpdate reads the id and version of an update in the server's
// layout where they stand, a few bytes from either end, and says whether
// the layout matched; anything else takes the general scan. Searching a
// window of at most 64 bytes lets bytes.Index compare them all at once
// instead of stopping at every quote.
func serverUpdate(msg []byte) (id, version int64, ok bool) {
	rest, ok := bytes.CutPrefix(msg, []byte(updateHead))
	if !ok {
		return 0, 0, false
	}
	i := bytes.Index(rest[:min(len(rest), 64)], []byte(`"feature":`))
	if i < 0 {
		return 0, 0, false
	}
	f, ok := bytes.CutPrefix(rest[i+len(`"feature":`):], []byte(featureHead))
	if !ok {
		return 0, 0, false
	}
	if id, _, ok = leadingInt(f); !ok {
		return 0, 0, false
	}
	end := bytes.TrimRight(msg, "}")
	digits := len(end)
	for digits > 0 && end[digits-1] >= '0' && end[digits-1] <= '9' {
		digits--
	}
	if !bytes.HasSuffix(end[:digits], []byte(versionKey)) {
		return 0, 0, false
	}
	version, rest, ok = leadingInt(end[digits:])
	return id, version, ok && len(rest) == 0
}

// snapshotVersions calls fn with the id and version of every feature of a
// snapshot message, in order, and returns how many it found.
func snapshotVersions(msg []byte, fn func(id, version int64)) (int, error) {
	rest, ok := afterKey(msg, "features")
	if !ok {
		return 0, errors.New("not a snapshot")
	}
	n := 0
	for {
		id, after, ok := intAfter(rest, "id")
		if !ok {
			return n, nil
		}
		version, next, ok := intAfter(after, "version")
		if !ok {
			return n, errors.New("snapshot feature without a version")
		}
		fn(id, version)
		n++
		rest = next
	}
}

// afterKey finds the first key named key in b and returns what follows its
// colon, leading whitespace skipped (PostgreSQL's json type writes `"id" : 1`).
func afterKey(b []byte, key string) ([]byte, bool) {
	var quoted [32]byte
	pat := append(append(append(quoted[:0], '"'), key...), '"')
	for {
		i := bytes.Index(b, pat)
		if i < 0 {
			return nil, false
		}
		b = skipSpace(b[i+len(pat):])
		if len(b) > 0 && b[0] == ':' {
			return skipSpace(b[1:]), true
		}
		// A string value that happens to read "key": keep looking.
	}
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// intAt reads the integer value of the first key named key in b.
func intAt(b []byte, key string) (int64, error) {
	v, _, ok := intAfter(b, key)
	if !ok {
		return 0, errNoField
	}
	return v, nil
}

// intAfter reads the integer value of the first key named key and returns
// the bytes after the number.
func intAfter(b []byte, key string) (int64, []byte, bool) {
	v, ok := afterKey(b, key)
	if !ok {
		return 0, nil, false
	}
	return leadingInt(v)
}

// leadingInt reads the integer that starts v and returns the bytes after it.
func leadingInt(v []byte) (int64, []byte, bool) {
	neg := len(v) > 0 && v[0] == '-'
	if neg {
		v = v[1:]
	}
	var n int64
	i := 0
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9' && i < 18; i++ {
		n = n*10 + int64(v[i]-'0')
	}
	if i == 0 || (i < len(v) && v[i] >= '0' && v[i] <= '9') {
		return 0, nil, false // not a number, or too long for us
	}
	if neg {
		n = -n
	}
	return n, v[i:], true
}
