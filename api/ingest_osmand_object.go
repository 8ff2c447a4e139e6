package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// osmObject is one JSON object with its values kept raw, so they are read
// leniently (a number or a numeric string) but never loosely (no NaN, no
// booleans as numbers).
type osmObject map[string]json.RawMessage

// text returns the first of names that is present and not null: a string's
// content or a number's literal. Objects, arrays and booleans are refused.
func (o osmObject) text(names ...string) (string, error) {
	for _, name := range names {
		raw, ok := o[name]
		if !ok || string(raw) == "null" || name == "" {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return strings.TrimSpace(s), nil
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String(), nil
		}
		return "", invalidLocation(fmt.Sprintf("%s must be a number or a string, not %s", name, raw))
	}
	return "", nil
}

// number reads the first of names as a decimal number; nil when absent,
// null or "".
func (o osmObject) number(names ...string) (*float64, error) {
	for _, name := range names {
		s, err := o.text(name)
		if err != nil {
			return nil, err
		}
		if s == "" {
			continue
		}
		v, err := osmNumber(s)
		if err != nil {
			return nil, invalidLocation(name + ": " + err.Error())
		}
		return &v, nil
	}
	return nil, nil
}

// object reads a nested object; nil when absent or null.
func (o osmObject) object(name string) (osmObject, error) {
	raw, ok := o[name]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var obj osmObject
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalid_json", name+" must be a JSON object")
	}
	return obj, nil
}

// locations returns the "location" member as a list: one object, the
// array batchSync sends, or none for null.
func (o osmObject) locations() ([]json.RawMessage, error) {
	raw := o["location"]
	switch {
	case string(raw) == "null":
		return nil, nil
	case len(raw) > 0 && raw[0] == '[':
		var locs []json.RawMessage
		if err := json.Unmarshal(raw, &locs); err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid_json", "location must be an object or an array of objects")
		}
		return locs, nil
	}
	return []json.RawMessage{raw}, nil
}

// params turns a flat object into parameters, so flat JSON goes through
// exactly the query's rules. Nested objects and arrays are skipped: no
// parameter has them.
func (o osmObject) params() osmParams {
	p := osmParams{}
	for k, raw := range o {
		if s, err := o.text(k); err == nil {
			p[k] = []string{s}
			continue
		}
		if b := string(raw); b == "true" || b == "false" {
			p[k] = []string{b}
		}
	}
	return p
}
