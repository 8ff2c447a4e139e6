package api

import (
	"math"
	"net/url"
	"strings"
	"testing"
	"time"
)

var osmNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// osmParse parses a raw query and body the way the handler does.
func osmParse(t *testing.T, rawQuery, contentType, body string) (osmRequest, error) {
	t.Helper()
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Fatalf("test query %q: %v", rawQuery, err)
	}
	return parseOsmAnd(q, []byte(body), contentType, osmNow)
}

func TestOsmAndParserReadsEveryTimeFormat(t *testing.T) {
	ms := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	cases := []struct{ query, want string }{
		{"timestamp=1377177267", "2013-08-22T13:14:27Z"},
		{"timestamp=1442068686579", "2015-09-12T14:38:06.579Z"},
		{"timestamp=1377177267.25", "2013-08-22T13:14:27.25Z"},
		{"timestamp=2016-01-27T18%3A55%3A47Z", "2016-01-27T18:55:47Z"},
		{"timestamp=2016-01-27T20%3A55%3A47.5%2B02:00", "2016-01-27T18:55:47.5Z"},
		{"timestamp=2016-01-27T20%3A55%3A47%2B0200", "2016-01-27T18:55:47Z"},
		{"timestamp=2015-10-01T08:00:00-0700", "2015-10-01T15:00:00Z"},
		{"timestamp=2016-01-27T20:55:47%2B02", "2016-01-27T18:55:47Z"},
		{"timestamp=2014-06-04+09%3A10%3A11", "2014-06-04T09:10:11Z"},
		{"timestamp=2014-06-04+09%3A10%3A11.123", "2014-06-04T09:10:11.123Z"},
		{"timestamp=150625134512", "2025-06-15T13:45:12Z"},
		{"time=2016-03-05T21:24:29.949+02:00", "2016-03-05T19:24:29.949Z"}, // "+" arrived as a space
		{"timestamp=1457205869&time=2016-03-05T19:24:29.949Z", "2016-03-05T19:24:29.949Z"},
		{"timestamp=1457205869&time=2016-03-05+21:24:29.949", "2016-03-05T19:24:29Z"}, // zoned wins over zoneless
		{"", osmNow.Format(time.RFC3339Nano)},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			req, err := osmParse(t, "id=x&lat=1&lon=2&"+c.query, "", "")
			if err != nil || len(req.Positions) != 1 {
				t.Fatalf("err %v, %d positions", err, len(req.Positions))
			}
			if got := req.Positions[0].RecordedAt; !got.Equal(ms(c.want)) {
				t.Fatalf("got %s, want %s", got.Format(time.RFC3339Nano), c.want)
			}
		})
	}
}

func TestOsmAndParserReadsNumbersStrictly(t *testing.T) {
	good := map[string][2]float64{
		"lat=52,5200066&lon=13,404954":       {52.5200066, 13.404954},
		"location=60.0,30.0":                 {60, 30},
		"location=52,52,13,40":               {52.52, 13.40},
		"latitude=1.5&longitude=-2.5":        {1.5, -2.5},
		"lat=1.5&lng=-2.5":                   {1.5, -2.5},
		"lat=1e1&lon=%2B2":                   {10, 2},
		"lat=1&lon=2&location=60.0,30.0":     {1, 2},
		"lat=+1.000000000000000000001&lon=2": {1, 2},
	}
	for q, want := range good {
		req, err := osmParse(t, "id=x&"+q, "", "")
		if err != nil || len(req.Positions) != 1 {
			t.Fatalf("%s: err %v", q, err)
		}
		if p := req.Positions[0]; math.Abs(p.Lat-want[0]) > 1e-12 || math.Abs(p.Lon-want[1]) > 1e-12 {
			t.Fatalf("%s: got %v,%v", q, p.Lat, p.Lon)
		}
	}
	bad := []string{"lat=NaN&lon=1", "lat=Inf&lon=1", "lat=0x1p3&lon=1", "lat=1,000.5&lon=1",
		"lat=52,52,1&lon=1", "lat=1", "lon=1", "lat=91&lon=1", "lat=1e400&lon=1", "location=1,2,3",
		"lat=1&lon=1&speed=fast", "lat=1&lon=1&timestamp=yesterday", "lat=1&lon=1&bearing=361",
		"lat=1&lon=1&batt=150", "lat=1_0&lon=1", "lat=.&lon=1", "lat=1e&lon=1"}
	for _, q := range bad {
		if _, err := osmParse(t, "id=x&"+q, "", ""); err == nil || toError(err).Status != 400 {
			t.Fatalf("%s: err %v, want a 400", q, err)
		}
	}
}

func TestOsmAndParserUnitsAndSentinels(t *testing.T) {
	req, err := osmParse(t, "id=x&lat=1&lon=2&speed=10&bearing=360&batt=91.0&accuracy=-1&altitude=-1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	r := req.Positions[0].Readings
	if math.Abs(*r.SpeedMPS-5.14444) > 1e-4 || *r.HeadingDeg != 360 || math.Abs(*r.Battery-0.91) > 1e-12 || r.AccuracyM != nil || r.AltitudeM != nil {
		t.Fatalf("readings %+v", r)
	}
	req, _ = osmParse(t, "id=x&lat=1&lon=2&spd=3&speed=10&altitude=-12.5&heading=-1&batt=-1", "", "")
	if r := req.Positions[0].Readings; *r.SpeedMPS != 3 || *r.AltitudeM != -12.5 || r.HeadingDeg != nil || r.Battery != nil {
		t.Fatalf("readings %+v", r)
	}
	req, _ = osmParse(t, "id=x&lat=1&lon=2&spd_kph=36", "", "")
	if r := req.Positions[0].Readings; math.Abs(*r.SpeedMPS-10) > 1e-12 {
		t.Fatalf("spd_kph: %v", *r.SpeedMPS)
	}
}

func TestOsmAndParserReadsEveryJSONShape(t *testing.T) {
	cases := []struct {
		name, body string
		n          int
		id         string
	}{
		{"wrapper", `{"location":{"timestamp":"2025-01-01T00:00:00Z","coords":{"latitude":1,"longitude":2}},"device_id":"d"}`, 1, "d"},
		{"batchSync location array", `{"location":[{"timestamp":"2025-01-01T00:00:00Z","coords":{"latitude":1,"longitude":2}},{"timestamp":"2025-01-01T00:00:01Z","coords":{"latitude":1,"longitude":3}}],"device_id":"d"}`, 2, "d"},
		{"array of wrappers", `[{"location":{"coords":{"latitude":1,"longitude":2}},"device_id":"d"},{"location":{"coords":{"latitude":3,"longitude":4}},"device_id":"d"}]`, 2, "d"},
		{"rootless location", `{"coords":{"latitude":1,"longitude":2},"device_id":7}`, 1, "7"},
		{"flat array", `[{"id":"d","lat":1,"lon":2,"timestamp":1377177267},{"id":"d","lat":"1.5","lon":"2,5","speed":1}]`, 2, "d"},
		{"flat with location=lat,lon", `{"id":"d","location":"60.0,30.0"}`, 1, "d"},
		{"heartbeat without coords", `{"location":{"timestamp":"2025-01-01T00:00:00Z","event":"heartbeat"},"device_id":"d"}`, 0, "d"},
		{"location null", `{"location":null,"device_id":"d"}`, 0, "d"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := osmParse(t, "", "application/json", c.body)
			if err != nil || len(req.Positions) != c.n || req.DeviceID != c.id {
				t.Fatalf("err %v, %d positions, id %q", err, len(req.Positions), req.DeviceID)
			}
		})
	}
	req, _ := osmParse(t, "", "application/json", `[{"id":"d","lat":1,"lon":2,"speed":1,"batt":50}]`)
	if r := req.Positions[0].Readings; math.Abs(*r.SpeedMPS-osmKnot) > 1e-12 || *r.Battery != 0.5 {
		t.Fatalf("flat JSON uses the query's units: %+v", r)
	}
	req, _ = osmParse(t, "", "application/json", `{"location":{"coords":{"latitude":1,"longitude":2,"speed":2},"battery":{"level":79}},"device_id":"d"}`)
	if r := req.Positions[0].Readings; *r.SpeedMPS != 2 || *r.Battery != 0.79 {
		t.Fatalf("JSON coords are m/s and a level above 1 is a percentage: %+v", r)
	}
}

func TestOsmAndParserRefusesWholeBatches(t *testing.T) {
	cases := map[string]string{
		`[{"id":"d","lat":1,"lon":2},{"id":"d","lat":91,"lon":2}]`:                                         "location 1:",
		`{"location":[{"coords":{"latitude":1,"longitude":2}},{"coords":{"latitude":"x","longitude":2}}]}`: "location 1:",
		`[{"id":"a","lat":1,"lon":2},{"id":"b","lat":1,"lon":2}]`:                                          "device ids",
		`[{"token":"a"},{"token":"b"}]`:                                                                    "tokens",
		`{"location":"here"}`:                                                                              "",
		`{"location":{"coords":{"latitude":1}}}`:                                                           "latitude and longitude",
		`[1]`:                                                                                              "JSON object",
		`{"lat":`:                                                                                          "not valid JSON",
	}
	for body, want := range cases {
		_, err := osmParse(t, "", "application/json", body)
		if err == nil || toError(err).Status != 400 || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: err %v, want a 400 saying %q", body, err, want)
		}
	}
	if _, err := osmParse(t, "id=a", "", "id=b&lat=1&lon=2"); err == nil {
		t.Fatal("query and form naming two devices were accepted")
	}
	if _, err := osmParse(t, "", "multipart/form-data; boundary=x", "--x"); toError(err).Status != 415 {
		t.Fatalf("multipart: %v", err)
	}
}

// FuzzOsmAndParse checks that the parser never panics, answers every bad
// request with a 4xx, and returns only positions that pass Validate.
func FuzzOsmAndParse(f *testing.F) {
	for _, v := range OsmVectors {
		_, raw, _ := strings.Cut(v.Target, "?")
		f.Add(raw, []byte(v.Body), v.ContentType)
	}
	f.Add("id=x&location=52,52,13,40&batt=1", []byte(nil), "")
	f.Add("", []byte(`[{"id":"d","lat":"52,1","lon":2,"timestamp":"2014-06-04 09:10:11.5"}]`), "application/json")
	f.Add("token=t", []byte(`{"location":[{"coords":{"latitude":1,"longitude":2}}],"device_id":"d"}`), "")
	f.Fuzz(func(t *testing.T, rawQuery string, body []byte, contentType string) {
		q, _ := url.ParseQuery(rawQuery)
		req, err := parseOsmAnd(q, body, contentType, osmNow)
		if len(req.Positions) != len(req.Index) {
			t.Fatalf("%d positions, %d indexes", len(req.Positions), len(req.Index))
		}
		if err != nil {
			if s := toError(err).Status; s < 400 || s > 499 {
				t.Fatalf("error %v maps to %d, want a 4xx", err, s)
			}
			return
		}
		for i, p := range req.Positions {
			if err := p.Validate(); err != nil {
				t.Fatalf("position %d %+v is invalid: %v", i, p, err)
			}
		}
	})
}
