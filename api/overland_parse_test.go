package api

import (
	"strings"
	"testing"
	"time"
)

// ovlF1 is vector F1: the Overland README example, byte for byte.
const ovlF1 = `{"locations":[{"type":"Feature","geometry":{"type":"Point","coordinates":[-122.030581,37.331800]},"properties":{"timestamp":"2015-10-01T08:00:00-0700","altitude":0,"speed":4,"horizontal_accuracy":30,"vertical_accuracy":-1,"motion":["driving","stationary"],"pauses":false,"activity":"other_navigation","desired_accuracy":100,"deferred":1000,"significant_change":"disabled","locations_in_payload":1,"battery_state":"charging","battery_level":0.89,"device_id":"","wifi":""}}]}`

var ovlNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// ovlLoc builds one location Feature with the given properties (JSON object
// members, without braces).
func ovlLoc(lon, lat string, props string) string {
	return `{"type":"Feature","geometry":{"type":"Point","coordinates":[` + lon + `,` + lat + `]},"properties":{` + props + `}}`
}

func mustParse(t *testing.T, body string) ovlBatch {
	t.Helper()
	b, err := parseOverland([]byte(body), ovlNow)
	if err != nil {
		t.Fatalf("parseOverland: %v", err)
	}
	return b
}

func TestOverlandParseReadsF1InGeoJSONOrder(t *testing.T) {
	b := mustParse(t, ovlF1)
	if len(b.Fixes) != 1 || len(b.Rejected) != 0 || b.Skipped != 0 {
		t.Fatalf("batch %+v", b)
	}
	p := b.Fixes[0].Pos
	if p.Lon != -122.030581 || p.Lat != 37.3318 {
		t.Fatalf("lon/lat %v/%v: swapped or altered", p.Lon, p.Lat)
	}
	if want := time.Date(2015, 10, 1, 15, 0, 0, 0, time.UTC); !p.RecordedAt.Equal(want) {
		t.Fatalf("time %v, want %v", p.RecordedAt, want)
	}
	if *p.SpeedMPS != 4 || *p.AccuracyM != 30 || *p.Battery != 0.89 {
		t.Fatalf("readings speed %v accuracy %v battery %v", *p.SpeedMPS, *p.AccuracyM, *p.Battery)
	}
	if p.AltitudeM != nil || p.HeadingDeg != nil {
		t.Fatalf("altitude with vertical_accuracy -1 or an absent course was kept: %+v", p.Readings)
	}
	if len(b.DeviceIDs) != 0 {
		t.Fatalf("empty device_id reported: %v", b.DeviceIDs)
	}
}

func TestOverlandParseTimestampForms(t *testing.T) {
	cases := []struct{ name, stamp, want string }{
		{"UTC with Z, as the current app sends", `"2024-05-01T10:00:00Z"`, "2024-05-01T10:00:00Z"},
		{"offset with a colon", `"2024-05-01T12:00:00+02:00"`, "2024-05-01T10:00:00Z"},
		{"offset without a colon", `"2024-05-01T03:00:00-0700"`, "2024-05-01T10:00:00Z"},
		{"hour-only offset", `"2024-05-01T03:00:00-07"`, "2024-05-01T10:00:00Z"},
		{"fractional seconds with Z", `"2024-05-01T10:00:00.123Z"`, "2024-05-01T10:00:00.123Z"},
		{"fractional seconds without a colon", `"2024-05-01T03:00:00.5-0700"`, "2024-05-01T10:00:00.5Z"},
		{"no zone is UTC", `"2024-05-01T10:00:00"`, "2024-05-01T10:00:00Z"},
		{"Unix seconds", `1714557600`, "2024-05-01T10:00:00Z"},
		{"Unix milliseconds", `1714557600250`, "2024-05-01T10:00:00.25Z"},
		{"missing means now", `null`, ovlNow.Format(time.RFC3339Nano)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := mustParse(t, `{"locations":[`+ovlLoc("1", "2", `"timestamp":`+c.stamp)+`]}`)
			if len(b.Fixes) != 1 {
				t.Fatalf("rejected: %+v", b.Rejected[0].Error)
			}
			if got := b.Fixes[0].Pos.RecordedAt.Format(time.RFC3339Nano); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestOverlandParseUnknownReadingsAreNotStored(t *testing.T) {
	b := mustParse(t, `{"locations":[`+
		ovlLoc("1", "2", `"speed":-1,"course":-1,"horizontal_accuracy":-1,"battery_level":-1,"altitude":12,"vertical_accuracy":-1`)+`,`+
		ovlLoc("1", "2", `"altitude":-1,"vertical_accuracy":3,"course":90,"heading":10`)+`,`+
		ovlLoc("1", "2", `"heading":45`)+`,`+
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2,30]},"properties":{}}]}`)
	if len(b.Fixes) != 4 {
		t.Fatalf("batch %+v", b)
	}
	if r := b.Fixes[0].Pos.Readings; r.SpeedMPS != nil || r.HeadingDeg != nil || r.AccuracyM != nil || r.Battery != nil || r.AltitudeM != nil {
		t.Fatalf("a -1 reading was kept: %+v", r)
	}
	if r := b.Fixes[1].Pos.Readings; r.AltitudeM == nil || *r.AltitudeM != -1 || *r.HeadingDeg != 90 {
		t.Fatalf("altitude -1 with a valid vertical accuracy is a real altitude; course wins: %+v", r)
	}
	if r := b.Fixes[2].Pos.Readings; r.HeadingDeg == nil || *r.HeadingDeg != 45 {
		t.Fatalf("heading without course: %+v", r)
	}
	if r := b.Fixes[3].Pos.Readings; r.AltitudeM == nil || *r.AltitudeM != 30 {
		t.Fatalf("third coordinate as altitude: %+v", r)
	}
}

func TestOverlandParseSkipsWhatIsNotAFix(t *testing.T) {
	b := mustParse(t, `{"locations":[`+
		ovlLoc("1", "2", `"timestamp":"2024-05-01T10:00:00Z","type":"visit","arrival_date":"2024-05-01T09:00:00Z"`)+`,`+
		ovlLoc("1", "2", `"timestamp":"2024-05-01T10:00:00Z","action":"visit","departure_date":null`)+`,`+
		ovlLoc("1", "2", `"timestamp":"2024-05-01T10:00:00Z","type":"trip","mode":"bicycle","distance":1200`)+`,`+
		`{"type":"Feature","properties":{"timestamp":"2024-05-01T10:00:00Z","action":"paused_location_updates"}},`+
		ovlLoc("3", "4", `"timestamp":"2024-05-01T10:00:00Z","device_id":"phone"`)+
		`],"trip":{"mode":"car","start":"2024-05-01T09:00:00Z","distance":5,"current_location":`+ovlLoc("9", "9", `"timestamp":"2024-05-01T10:00:00Z"`)+`}}`)
	if b.Skipped != 4 || len(b.Fixes) != 1 || len(b.Rejected) != 0 || b.Fixes[0].Pos.Lon != 3 {
		t.Fatalf("batch %+v", b)
	}
	if len(b.DeviceIDs) != 1 || b.DeviceIDs[0] != "phone" {
		t.Fatalf("device ids %v", b.DeviceIDs)
	}
}

func TestOverlandParseRejectsBadItemsOneByOne(t *testing.T) {
	good := ovlLoc("1", "2", `"timestamp":"2024-05-01T10:00:00Z"`)
	bad := []struct{ name, item, inMessage string }{
		{"latitude out of range", ovlLoc("1", "91", ``), "lat"},
		{"swapped order out of range", ovlLoc("37", "-122", ``), "lat"},
		{"a reading of the wrong type", ovlLoc("1", "2", `"speed":"fast"`), "speed"},
		{"battery as a percentage", ovlLoc("1", "2", `"battery_level":89`), "battery"},
		{"a timestamp that is not ISO 8601", ovlLoc("1", "2", `"timestamp":"yesterday"`), "timestamp"},
		{"a time before 2000", ovlLoc("1", "2", `"timestamp":"1970-01-01T00:00:00Z"`), "recorded_at"},
		{"no geometry", `{"type":"Feature","properties":{}}`, "geometry"},
		{"a LineString", `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]},"properties":{}}`, "geometry"},
		{"a number too large", ovlLoc("1e400", "2", ``), "geometry"},
		{"not a Feature", `{"lat":1,"lon":2}`, "Feature"},
		{"null", `null`, "Feature"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			b := mustParse(t, `{"locations":[`+good+`,`+c.item+`,`+good+`],"current":`+c.item+`}`)
			want := 2
			if c.item == "null" {
				want = 1 // "current": null means no current location
			}
			if len(b.Fixes) != 2 || len(b.Rejected) != want {
				t.Fatalf("batch %+v", b)
			}
			r := b.Rejected[0]
			if *r.Index != 1 || r.Pointer != "/locations/1" || r.Error.Code != "invalid_location" || !strings.Contains(r.Error.Message, c.inMessage) {
				t.Fatalf("rejection %+v %+v", r, r.Error)
			}
			if cur := b.Rejected[want-1]; want == 2 && (cur.Index != nil || cur.Pointer != "/current") {
				t.Fatalf("current rejection %+v", cur)
			}
		})
	}
}

func TestOverlandParseRejectsBodiesThatAreNotBatches(t *testing.T) {
	cases := []struct{ name, body, code string }{
		{"not JSON", `{"locations":[`, "invalid_json"},
		{"an array", `[` + ovlLoc("1", "2", ``) + `]`, "invalid_json"},
		{"an OwnTracks message", `{"_type":"location","lat":1,"lon":2,"tst":1701263310}`, "invalid_json"},
		{"locations not an array", `{"locations":{}}`, "invalid_json"},
		{"empty", ``, "invalid_json"},
		{"more than MaxBatch locations", `{"locations":[` + strings.Repeat(`{},`, MaxBatch) + `{}]}`, "body_too_large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseOverland([]byte(c.body), ovlNow)
			if e := toError(err); err == nil || e.Code != c.code {
				t.Fatalf("got %v, want %s", err, c.code)
			}
		})
	}
	if b := mustParse(t, `{"locations":[]}`); len(b.Fixes)+len(b.Rejected) != 0 {
		t.Fatalf("empty batch %+v", b)
	}
}
