package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestOsmAndReadsEachFormatAliasAndUnit(t *testing.T) {
	e := osmNewEnv(t)
	const at = "2024-05-01T10:00:00Z"
	p := func(lat, lon float64) osmWant { return osmWant{lat: lat, lon: lon, at: at} }
	with := func(w osmWant, f func(*osmWant)) osmWant { f(&w); return w }
	cases := []struct {
		name, query, body string
		want              osmWant
	}{
		{"Unix seconds", "lat=1&lon=2&timestamp=1714557600", "", p(1, 2)},
		{"Unix milliseconds", "lat=1&lon=2&timestamp=1714557600123", "",
			with(p(1, 2), func(w *osmWant) { w.at = "2024-05-01T10:00:00.123Z" })},
		{"ISO 8601 with Z", "lat=1&lon=2&timestamp=2024-05-01T10:00:00Z", "", p(1, 2)},
		{"ISO 8601 with +02:00", "lat=1&lon=2&timestamp=2024-05-01T12:00:00%2B02:00", "", p(1, 2)},
		{"ISO 8601 with +0200", "lat=1&lon=2&timestamp=2024-05-01T12:00:00%2B0200", "", p(1, 2)},
		{"yyyy-MM-dd HH:mm:ss as UTC", "lat=1&lon=2&timestamp=2024-05-01%2010:00:00", "", p(1, 2)},
		{"yyyy-MM-dd HH:mm:ss.SSS as UTC", "lat=1&lon=2&timestamp=2024-05-01+10:00:00.250", "",
			with(p(1, 2), func(w *osmWant) { w.at = "2024-05-01T10:00:00.25Z" })},
		{"the most precise of GPSLogger's three times",
			"lat=1&lon=2&timestamp=1714557600&time=2024-05-01T10:00:00.750Z&timeoffset=2024-05-01T12:00:00.750%2B02:00", "",
			with(p(1, 2), func(w *osmWant) { w.at = "2024-05-01T10:00:00.75Z" })},
		{"deviceid, latitude, lng, heading, alt, acc, battery",
			"deviceid={dev}&latitude=1.5&lng=2.5&heading=45&alt=100&acc=3&battery=50&timestamp=1714557600", "",
			with(p(1.5, 2.5), func(w *osmWant) { w.hdg, w.alt, w.acc, w.bat = osmF(45), osmF(100), osmF(3), osmF(0.5) })},
		{"device_id, longitude, bearing, altitude, accuracy, batt",
			"device_id={dev}&lat=1&longitude=2&bearing=360&altitude=-12.5&accuracy=7&batt=91.0&timestamp=1714557600", "",
			with(p(1, 2), func(w *osmWant) { w.hdg, w.alt, w.acc, w.bat = osmF(360), osmF(-12.5), osmF(7), osmF(0.91) })},
		{"location=lat,lon", "id={dev}&location=60.0,30.0&timestamp=1714557600", "", p(60, 30)},
		{"GPSLogger's dir and spd (m/s)", "lat=1&lon=2&dir=90&spd=3.5&spd_kph=12.6&timestamp=1714557600", "",
			with(p(1, 2), func(w *osmWant) { w.hdg, w.spd = osmF(90), osmF(3.5) })},
		{"spd_kph alone", "lat=1&lon=2&spd_kph=36&timestamp=1714557600", "",
			with(p(1, 2), func(w *osmWant) { w.spd = osmF(10) })},
		{"speed in knots", "lat=1&lon=2&speed=10&timestamp=1714557600", "",
			with(p(1, 2), func(w *osmWant) { w.spd = osmF(10 * osmKnotMPS) })},
		{"-1 means unknown", "lat=1&lon=2&speed=-1&bearing=-1&accuracy=-1&altitude=-1&batt=-1&timestamp=1714557600", "", p(1, 2)},
		{"a decimal comma", "lat=52,5200066&lon=13,404954&timestamp=1714557600", "", p(52.5200066, 13.404954)},
		{"query and form merged, the query wins", "id={dev}&lat=1&lon=2&timestamp=1714557600", "lat=3&lon=4&speed=10",
			with(p(1, 2), func(w *osmWant) { w.spd = osmF(10 * osmKnotMPS) })},
		{"flat JSON, with the query's names and units", "", `[{"id":"{dev}","lat":"1","lon":2,"timestamp":1714557600,"speed":10,"batt":80}]`,
			with(p(1, 2), func(w *osmWant) { w.spd, w.bat = osmF(10*osmKnotMPS), osmF(0.8) })},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dev := fmt.Sprint("dev-", i)
			id, tok := e.newDevice("p-"+dev, dev)
			query, body := strings.ReplaceAll(c.query, "{dev}", dev), strings.ReplaceAll(c.body, "{dev}", dev)
			ctype := ""
			if strings.HasPrefix(body, "[") {
				ctype = "application/json"
			}
			r := e.send("POST", e.url+"/ingest/osmand?"+query, ctype, body, "Authorization", "Bearer "+tok)
			if r.status != 200 || len(r.body) != 0 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			c.want.check(t, e.storedHistory(id), [2]time.Time{})
		})
	}
}
