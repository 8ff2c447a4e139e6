package api

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// otD1 is vector D1, owntracks/json-schema test/location-5s.json verbatim.
const otD1 = `{"_type":"location","acc":9,"alt":93,"batt":94,"bs":1,"BSSID":"ca:fe:ed:40:81:5b","cog":252,"conn":"w","lat":53.430722,"lon":5.112126,"m":1,"p":99.182,"SSID":"hotel","t":"p","tid":"SG","tst":1701263310,"vac":3,"vel":1}`

var otNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func otF(v float64) *float64 { return &v }

func TestOwnTracksParseReadsLocations(t *testing.T) {
	cases := []struct {
		name, body               string
		lat, lon                 float64
		at                       time.Time
		acc, alt, mps, cog, batt *float64
	}{
		{"vector D1", otD1, 53.430722, 5.112126, time.Unix(1701263310, 0),
			otF(9), otF(93), otF(1 / 3.6), otF(252), otF(0.94)},
		{"numbers as strings", `{"_type":"location","lat":"52.1","lon":" -0.5 ","tst":"1701263310","vel":"36","batt":"50"}`,
			52.1, -0.5, time.Unix(1701263310, 0), nil, nil, otF(10), nil, otF(0.5)},
		{"-1 means unknown", `{"_type":"location","lat":1,"lon":2,"tst":1701263310,"acc":-1,"vel":-1,"cog":-1,"batt":-1,"alt":-12}`,
			1, 2, time.Unix(1701263310, 0), nil, otF(-12), nil, nil, nil},
		{"created_at is not the fix time", `{"_type":"location","lat":1,"lon":2,"tst":1701258666,"created_at":1701258670}`,
			1, 2, time.Unix(1701258666, 0), nil, nil, nil, nil, nil},
		{"tst with a fraction", `{"_type":"location","lat":1,"lon":2,"tst":1701263310.123}`,
			1, 2, time.UnixMilli(1701263310123), nil, nil, nil, nil, nil},
		{"tst in milliseconds", `{"_type":"location","lat":1,"lon":2,"tst":1701263310123}`,
			1, 2, time.UnixMilli(1701263310123), nil, nil, nil, nil, nil},
		{"no tst: now", `{"_type":"location","lat":1,"lon":2,"acc":""}`, 1, 2, otNow, nil, nil, nil, nil, nil},
		{"after a byte order mark", "\xef\xbb\xbf " + `{"_type":"location","lat":1,"lon":2}`, 1, 2, otNow, nil, nil, nil, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msgs, err := parseOwnTracks([]byte(c.body), otNow)
			if err != nil || len(msgs) != 1 || msgs[0].Position == nil {
				t.Fatalf("%v %+v", err, msgs)
			}
			p := msgs[0].Position
			if p.Lat != c.lat || p.Lon != c.lon || !p.RecordedAt.Equal(c.at) || p.RecordedAt.Location() != time.UTC {
				t.Fatalf("got %v,%v at %v", p.Lat, p.Lon, p.RecordedAt)
			}
			for name, pair := range map[string][2]*float64{"acc": {p.AccuracyM, c.acc}, "alt": {p.AltitudeM, c.alt},
				"vel": {p.SpeedMPS, c.mps}, "cog": {p.HeadingDeg, c.cog}, "batt": {p.Battery, c.batt}} {
				got, want := pair[0], pair[1]
				if (got == nil) != (want == nil) || (got != nil && math.Abs(*got-*want) > 1e-9) {
					t.Errorf("%s: got %v, want %v", name, otDeref(got), otDeref(want))
				}
			}
		})
	}
}

func otDeref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func TestOwnTracksParseAcceptsOtherTypesWithoutAPosition(t *testing.T) {
	for _, body := range []string{
		`{"_type":"transition","acc":6,"created_at":1701264373,"desc":"blukii","event":"enter","lat":61.195709,"lon":9.688233,"rid":"c00b92","t":"b","tid":"SG","tst":1701264368,"wtst":1610104404}`,
		`{"_type":"waypoint"}`, `{"_type":"waypoints","waypoints":[]}`, `{"_type":"card","name":"VW"}`,
		`{"_type":"lwt","tst":1699882482}`, `{"_type":"steps"}`, `{"_type":"cmd","action":"reportLocation"}`,
		`{"_type":"status","iOS":{}}`, `{"_type":"something-new","lat":"garbage"}`,
	} {
		msgs, err := parseOwnTracks([]byte(body), otNow)
		if err != nil || len(msgs) != 1 || msgs[0].Position != nil {
			t.Errorf("%s: %v %+v", body, err, msgs)
		}
	}
}

func TestOwnTracksParseReadsAnArrayOfMessages(t *testing.T) {
	msgs, err := parseOwnTracks([]byte(`[{"_type":"location","lat":8,"lon":9,"tst":1000000000},{"_type":"card"}]`), otNow)
	if err != nil || len(msgs) != 2 || msgs[0].Position == nil || msgs[1].Type != "card" {
		t.Fatalf("%v %+v", err, msgs)
	}
}

func TestOwnTracksParseRefusesBadInput(t *testing.T) {
	cases := []struct{ name, body, code, mentions string }{
		{"garbage", `hello`, "invalid_json", ""},
		{"a form", `lat=1&lon=2`, "invalid_json", ""},
		{"a number", `42`, "invalid_json", "object"},
		{"no _type", `{"lat":1,"lon":2}`, "invalid_json", "_type"},
		{"_type not a string", `{"_type":1,"lat":1,"lon":2}`, "invalid_json", "_type"},
		{"lat 91", `{"_type":"location","lat":91,"lon":2}`, "invalid_location", "lat"},
		{"lon missing", `{"_type":"location","lat":1}`, "invalid_location", "lon"},
		{"NaN", `{"_type":"location","lat":"NaN","lon":2}`, "invalid_location", "lat"},
		{"Infinity", `{"_type":"location","lat":1,"lon":"Infinity"}`, "invalid_location", "lon"},
		{"hex", `{"_type":"location","lat":"0x10","lon":2}`, "invalid_location", "lat"},
		{"too large for a float", `{"_type":"location","lat":1e400,"lon":2}`, "invalid_location", "lat"},
		{"a boolean", `{"_type":"location","lat":1,"lon":2,"vel":true}`, "invalid_location", "vel"},
		{"battery over 100 %", `{"_type":"location","lat":1,"lon":2,"batt":150}`, "invalid_location", "batt"},
		{"tst zero", `{"_type":"location","lat":1,"lon":2,"tst":0}`, "invalid_location", "tst"},
		{"tst before 2000", `{"_type":"location","lat":1,"lon":2,"tst":1000}`, "invalid_location", "tst"},
		{"encrypted", `{"_type":"encrypted","data":"YWJjZGUK"}`, "unsupported_message", "encrypt"},
		{"a bad message in an array", `[{"_type":"card"},{"_type":"location","lat":91,"lon":0}]`, "invalid_location", "message 1"},
		{"an array of numbers", `[1]`, "invalid_json", "message 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msgs, err := parseOwnTracks([]byte(c.body), otNow)
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || e.Code != c.code || !strings.Contains(e.Message, c.mentions) {
				t.Fatalf("got %v %+v, want 400 %s mentioning %q", err, msgs, c.code, c.mentions)
			}
		})
	}
}

func TestOwnTracksTrackerIDsAreShortAndUnique(t *testing.T) {
	for name, want := range map[string]string{"Jane": "JA", "jane doe": "JD", "J": "J", "Émile Zola": "ÉZ", "🙂": "?", "r2-d2": "RD"} {
		if got := otTag(name); got != want {
			t.Errorf("otTag(%q) = %q, want %q", name, got, want)
		}
	}
	people := []otFeature{{ID: 2}, {ID: 5}, {ID: 9}}
	people[0].Properties.Name, people[1].Properties.Name, people[2].Properties.Name = "Jane", "Jack", "Bob"
	tids := otTrackerIDs(people)
	if tids[2] != "JA" || tids[5] != "JA-5" || tids[9] != "BO" {
		t.Fatalf("%v", tids)
	}
}

// FuzzOwnTracksParse: the parser never panics, and whatever position it
// returns is one geo accepts.
func FuzzOwnTracksParse(f *testing.F) {
	for _, seed := range []string{
		otD1,
		`{"_type":"location","t":"u","batt":11,"lat":48.856826,"lon":2.292713,"tid":"JJ","tst":1701263310,"topic":"owntracks/jane/phone"}`,
		`{"_type":"location","lat":"52.1","lon":"5","tst":"1701263310","vel":"-1"}`,
		`{"_type":"transition","event":"enter","lat":61.195709,"lon":9.688233,"tst":1701264368,"wtst":1610104404}`,
		`[{"_type":"location","lat":8,"lon":9,"tst":1000},{"_type":"location","lat":8,"lon":9,"tst":1000}]`,
		`{"_type":"encrypted","data":"YWJjZGUK"}`, `{"_type":"lwt","tst":1699882482}`, ``, `[]`, `null`,
		`{"_type":"location","lat":1e308,"lon":-1e-308,"tst":9e18,"cog":360.0000001}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, err := parseOwnTracks(body, otNow)
		if err != nil && msgs != nil {
			t.Fatalf("messages with an error: %+v", msgs)
		}
		for _, m := range msgs {
			if m.Position == nil {
				continue
			}
			if err := m.Position.Validate(); err != nil {
				t.Fatalf("parsed an invalid position %+v: %v", *m.Position, err)
			}
		}
	})
}
