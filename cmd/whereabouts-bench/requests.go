package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// warmupFor is the unmeasured start of an HTTP slice of length d
// (connections, pools, caches).
func warmupFor(d time.Duration) time.Duration { return min(time.Second, d/5) }

// putLocation is a random phone's fix: it moves its own person to a random
// point of the city with its own device token, as the apps do; recorded_at
// is omitted, so it is now.
func (b *bench) putLocation(w *worker) request {
	id := 1 + w.rng.IntN(b.opts.Phones)
	lat, lon := defaultCity.point(w.rng)
	body := append(appendLatLon(append(make([]byte, 0, 48), '{'), lat, lon), '}')
	return request{Method: http.MethodPut, Path: "/api/v1/people/" + strconv.Itoa(id) + "/location", Token: deviceToken(id), Body: body}
}

// postLocations sends BatchSize positions of distinct people, chosen exactly
// as the pgbench batch script chooses them (a random start, a stride coprime
// to the number of people), so both meet the same row-lock contention
// between concurrent batches.
func (b *bench) postLocations(w *worker) request {
	size, people := b.opts.BatchSize, b.opts.People
	step, off := stride(people, size), w.rng.IntN(people)
	body := append(make([]byte, 0, 56*size), '[')
	for k := range size {
		if k > 0 {
			body = append(body, ',')
		}
		id := 1 + (off+k*step)%people
		body = strconv.AppendInt(append(body, `{"person_id":`...), int64(id), 10)
		lat, lon := defaultCity.point(w.rng)
		body = append(appendLatLon(append(body, ','), lat, lon), '}')
	}
	return request{Method: http.MethodPost, Path: "/api/v1/locations", Token: b.token, Body: append(body, ']')}
}

// getNearby asks for the 10 people nearest a random point of the city.
func (b *bench) getNearby(w *worker) request {
	lat, lon := defaultCity.point(w.rng)
	q := "lat=" + strconv.FormatFloat(lat, 'f', 6, 64) + "&lon=" + strconv.FormatFloat(lon, 'f', 6, 64) + "&limit=10"
	return request{Method: http.MethodGet, Path: "/api/v1/people/nearby?" + q, Token: b.token}
}

func appendLatLon(buf []byte, lat, lon float64) []byte {
	buf = append(buf, `"lat":`...)
	buf = strconv.AppendFloat(buf, lat, 'f', 6, 64)
	buf = append(buf, `,"lon":`...)
	return strconv.AppendFloat(buf, lon, 'f', 6, 64)
}

func oneEach([]byte) int { return 1 }

// acceptedCount reads a batch answer's "accepted".
func acceptedCount(body []byte) int {
	var v struct{ Accepted int }
	json.Unmarshal(body, &v)
	return v.Accepted
}
