package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"whereabouts/geo"
)

// The Overland wire format (aaronpk/Overland-iOS README "API", GLManager.m):
// {"locations": [GeoJSON Feature...], "current": Feature?, "trip": {...}?}.
// The same batch shape is sent by Dawarich-format senders, which add
// "course" and accuracies; both are read here.

// ovlFeature is one queued item. Every field stays raw so that a wrongly
// typed value rejects one item with its name, never the whole batch.
type ovlFeature struct {
	Type       string          `json:"type"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties ovlProps        `json:"properties"`
}

type ovlProps struct {
	Type               json.RawMessage `json:"type"`   // "trip" (and "visit" in older versions): not a fix
	Action             json.RawMessage `json:"action"` // "visit", "paused_location_updates"...: not a fix
	DeviceID           json.RawMessage `json:"device_id"`
	Timestamp          json.RawMessage `json:"timestamp"`
	Altitude           json.RawMessage `json:"altitude"`
	VerticalAccuracy   json.RawMessage `json:"vertical_accuracy"`
	HorizontalAccuracy json.RawMessage `json:"horizontal_accuracy"`
	Speed              json.RawMessage `json:"speed"`
	Course             json.RawMessage `json:"course"`
	Heading            json.RawMessage `json:"heading"`
	BatteryLevel       json.RawMessage `json:"battery_level"`
}

// ovlFix is one position read from the body; Index is its place in
// "locations", or -1 for "current".
type ovlFix struct {
	Index int
	Pos   geo.Position
}

// ovlRejected reports an item that was not stored. Pointer (RFC 6901) also
// names "current", which has no index.
type ovlRejected struct {
	Index   *int   `json:"index,omitempty"`
	Pointer string `json:"pointer"`
	Error   *Error `json:"error"`
}

// ovlBatch is what a body holds: fixes that passed geo.Position.Validate,
// the items that did not, and how many items were not fixes at all.
type ovlBatch struct {
	Fixes     []ovlFix
	Rejected  []ovlRejected
	Skipped   int      // visits, trips and app events
	DeviceIDs []string // distinct non-empty properties.device_id values
}

// parseOverland reads an Overland body without I/O. Only a body that is not
// an Overland batch at all, or holds more than MaxBatch locations, is an
// error; a bad item is reported in Rejected so the good ones still apply.
// now stands in for a missing timestamp, the rule all adapters share.
func parseOverland(body []byte, now time.Time) (ovlBatch, error) {
	var top struct {
		Locations *[]json.RawMessage `json:"locations"`
		Current   json.RawMessage    `json:"current"`
	}
	if err := json.Unmarshal(body, &top); err != nil {
		return ovlBatch{}, errorf(http.StatusBadRequest, "invalid_json",
			`the body must be a JSON object {"locations": [GeoJSON Features]}: `+err.Error())
	}
	hasCurrent := len(top.Current) > 0 && string(top.Current) != "null"
	if top.Locations == nil && !hasCurrent {
		return ovlBatch{}, errorf(http.StatusBadRequest, "invalid_json",
			`the body has no "locations": send {"locations": [GeoJSON Features]}`)
	}
	var items []json.RawMessage
	if top.Locations != nil {
		items = *top.Locations
	}
	if len(items) > MaxBatch {
		return ovlBatch{}, errorf(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("a batch may hold at most %d locations, this one has %d; lower Points per Batch", MaxBatch, len(items)))
	}
	var b ovlBatch
	seen := map[string]bool{}
	for i, raw := range items {
		b.add(i, raw, now, seen)
	}
	if hasCurrent {
		b.add(-1, top.Current, now, seen)
	}
	return b, nil
}

func (b *ovlBatch) add(index int, raw json.RawMessage, now time.Time, seen map[string]bool) {
	pos, isFix, deviceID, err := ovlItem(raw, now)
	switch {
	case err != nil:
		b.Rejected = append(b.Rejected, ovlReject(index, err))
	case !isFix:
		b.Skipped++
	default:
		b.Fixes = append(b.Fixes, ovlFix{Index: index, Pos: pos})
		if deviceID != "" && !seen[deviceID] {
			seen[deviceID] = true
			b.DeviceIDs = append(b.DeviceIDs, deviceID)
		}
	}
}

func ovlReject(index int, err error) ovlRejected {
	if index < 0 {
		return ovlRejected{Pointer: "/current", Error: toError(err)}
	}
	return ovlRejected{Index: &index, Pointer: "/locations/" + strconv.Itoa(index), Error: toError(err)}
}

// ovlItem reads one Feature. isFix is false for the records Overland queues
// next to fixes: visits, finished trips and tracking-stats events (which may
// have no geometry at all).
func ovlItem(raw json.RawMessage, now time.Time) (pos geo.Position, isFix bool, deviceID string, err error) {
	var f ovlFeature
	if json.Unmarshal(raw, &f) != nil || f.Type != "Feature" {
		return pos, false, "", invalidLocation("each location must be a GeoJSON Feature with a properties object")
	}
	p := f.Properties
	if kind := ovlString(p.Type); kind == "visit" || kind == "trip" || ovlString(p.Action) != "" {
		return pos, false, "", nil
	}
	var z *float64
	if pos.Point, z, err = ovlPoint(f.Geometry); err != nil {
		return pos, false, "", err
	}
	if pos.RecordedAt, err = ovlTime(p.Timestamp, now); err != nil {
		return pos, false, "", err
	}
	if pos.Readings, err = p.readings(z); err != nil {
		return pos, false, "", err
	}
	if err := pos.Validate(); err != nil {
		return pos, false, "", err
	}
	return pos, true, ovlString(p.DeviceID), nil
}

// ovlPoint reads a GeoJSON Point: [lon, lat] or [lon, lat, altitude].
func ovlPoint(raw json.RawMessage) (geo.Point, *float64, error) {
	var g struct {
		Type        string    `json:"type"`
		Coordinates []float64 `json:"coordinates"`
	}
	if json.Unmarshal(raw, &g) != nil || g.Type != "Point" || len(g.Coordinates) < 2 || len(g.Coordinates) > 3 {
		return geo.Point{}, nil, invalidLocation("geometry must be a GeoJSON Point with coordinates [lon, lat]")
	}
	var z *float64
	if len(g.Coordinates) == 3 {
		z = &g.Coordinates[2]
	}
	return geo.Point{Lon: g.Coordinates[0], Lat: g.Coordinates[1]}, z, nil
}
