package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"whereabouts/geo"
)

// readJSON reads the JSON bodies of the Traccar Client family:
//   - {"location": {...}, "device_id": "..."}: Traccar Client 9
//     (transistorsoft background-geolocation with Traccar's template);
//   - the same with "location" an array: the SDK's batchSync;
//   - a bare location {"coords": ..., "device_id": ...}: httpRootProperty ".";
//   - a flat object {"id", "lat", "lon", "timestamp", ...}: the query's
//     names, aliases and units (speed in knots, batt in percent);
//   - an array of any of these.
//
// Every entry must be valid or the whole request is refused, naming the
// entry: these apps cannot read per-item results, and refusing keeps the
// batch on the phone instead of losing part of it quietly.
func (req *osmRequest) readJSON(body []byte, now time.Time) error {
	b := bytes.TrimSpace(body)
	items := []json.RawMessage{b}
	if b[0] == '[' {
		req.Batch = true
		if err := json.Unmarshal(b, &items); err != nil {
			return errorf(http.StatusBadRequest, "invalid_json", "the body is not valid JSON: "+err.Error())
		}
		if len(items) > MaxBatch {
			return errorf(http.StatusRequestEntityTooLarge, "body_too_large",
				fmt.Sprintf("a batch may hold at most %d positions, this one has %d", MaxBatch, len(items)))
		}
	} else if !json.Valid(b) {
		return errorf(http.StatusBadRequest, "invalid_json", "the body is not valid JSON")
	}
	entry := 0 // locations seen so far, counting nested batchSync arrays
	for _, raw := range items {
		if err := req.readJSONItem(raw, &entry, now); err != nil {
			return req.at(entry, err)
		}
	}
	return nil
}

// at names the entry an error is about, when there is more than one.
func (req *osmRequest) at(entry int, err error) error {
	if !req.Batch {
		return err
	}
	e := toError(err)
	return errorf(e.Status, e.Code, fmt.Sprintf("location %d: %s", entry, e.Message))
}

// readJSONItem reads one element of the body: a wrapper, a bare location or
// a flat object. entry counts locations across the body, for messages.
func (req *osmRequest) readJSONItem(raw json.RawMessage, entry *int, now time.Time) error {
	var obj osmObject
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return errorf(http.StatusBadRequest, "invalid_json", "a location must be a JSON object")
	}
	flat := obj.params()
	if err := req.identifyParams(flat); err != nil {
		return err
	}
	// A string location is the query's "lat,lon"; an object, array or
	// null is the SDK's.
	l := bytes.TrimSpace(obj["location"])
	wrapped := string(l) == "null" || len(l) > 0 && (l[0] == '{' || l[0] == '[')
	if !wrapped && obj["coords"] == nil {
		if err := req.addParams(flat, *entry, now); err != nil {
			return err
		}
		*entry++
		return nil
	}
	locs := []json.RawMessage{raw}
	if wrapped {
		var err error
		if locs, err = obj.locations(); err != nil {
			return err
		}
		req.Batch = req.Batch || len(locs) > 1
	}
	for _, l := range locs {
		var loc osmObject
		if err := json.Unmarshal(l, &loc); err != nil || loc == nil {
			return errorf(http.StatusBadRequest, "invalid_json", "a location must be a JSON object")
		}
		pos, err := osmFromLocation(loc, now)
		if err != nil {
			return err
		}
		if pos != nil {
			req.Positions, req.Index = append(req.Positions, *pos), append(req.Index, *entry)
		}
		*entry++
	}
	return nil
}

// osmFromLocation reads one transistorsoft location: coords in degrees,
// metres and m/s, battery.level a fraction, timestamp ISO 8601 (absent:
// now). Without coords it is a heartbeat and gives nil.
func osmFromLocation(loc osmObject, now time.Time) (*geo.Position, error) {
	coords, err := loc.object("coords")
	if err != nil || coords == nil {
		return nil, err
	}
	lat, err1 := coords.number("latitude", "lat")
	lon, err2 := coords.number("longitude", "lon", "lng")
	if err := firstErr(err1, err2); err != nil {
		return nil, err
	}
	if lat == nil || lon == nil {
		return nil, invalidLocation("coords need latitude and longitude")
	}
	pos := geo.Position{Point: geo.Point{Lat: *lat, Lon: *lon}}
	if pos.RecordedAt, err = osmPickTime(loc.params(), []string{"timestamp"}, now); err != nil {
		return nil, err
	}
	for _, r := range [...]struct{ field, name, alias string }{
		{"accuracy_m", "accuracy", ""}, {"speed_mps", "speed", ""},
		{"heading_deg", "heading", "bearing"}, {"altitude_m", "altitude", ""},
	} {
		v, err := coords.number(r.name, r.alias)
		if err != nil {
			return nil, err
		}
		if v != nil {
			osmSetReading(&pos.Readings, r.field, *v, 1)
		}
	}
	if err := osmBattery(loc, &pos.Readings); err != nil {
		return nil, err
	}
	if err := pos.Validate(); err != nil {
		return nil, err
	}
	return &pos, nil
}

// osmBattery reads battery.level: a fraction (1 is full), as the SDK sends
// it; a value above 1 can only be a percentage.
func osmBattery(loc osmObject, r *geo.Readings) error {
	battery, err := loc.object("battery")
	if err != nil || battery == nil {
		return err
	}
	level, err := battery.number("level")
	if err != nil || level == nil {
		return err
	}
	scale := 1.0
	if *level > 1 {
		scale = 0.01
	}
	osmSetReading(r, "battery", *level, scale)
	return nil
}
