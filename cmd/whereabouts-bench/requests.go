package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// warmup precedes each HTTP phase (connections, pools, caches) and is not
// measured.
func (b *bench) warmup() time.Duration { return warmupFor(b.opts.Duration) }

func warmupFor(d time.Duration) time.Duration { return min(time.Second, d/5) }

func (b *bench) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, b.srv.url+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = http.Header{"Authorization": {"Bearer " + b.token}}
	if body != nil {
		req.Header["Content-Type"] = []string{"application/json"}
	}
	return req, nil
}

// putLocation is a random phone's fix: it moves its own person to a random
// point of the city with its own device token, as the apps do; recorded_at
// is omitted, so it is now.
func (b *bench) putLocation(ctx context.Context, w *worker) (*http.Request, error) {
	id := 1 + w.rng.IntN(b.opts.Phones)
	lat, lon := defaultCity.point(w.rng)
	body := append(appendLatLon(append(make([]byte, 0, 48), '{'), lat, lon), '}')
	req, err := b.newRequest(ctx, http.MethodPut, "/api/v1/people/"+strconv.Itoa(id)+"/location", body)
	if err == nil {
		req.Header["Authorization"] = []string{"Bearer " + deviceToken(id)}
	}
	return req, err
}

// postLocations sends BatchSize positions of distinct people, chosen exactly
// as the pgbench batch script chooses them (a random start, a stride coprime
// to the number of people), so both meet the same row-lock contention
// between concurrent batches.
func (b *bench) postLocations(ctx context.Context, w *worker) (*http.Request, error) {
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
	return b.newRequest(ctx, http.MethodPost, "/api/v1/locations", append(body, ']'))
}

// getNearby asks for the 10 people nearest a random point of the city.
func (b *bench) getNearby(ctx context.Context, w *worker) (*http.Request, error) {
	lat, lon := defaultCity.point(w.rng)
	q := "lat=" + strconv.FormatFloat(lat, 'f', 6, 64) + "&lon=" + strconv.FormatFloat(lon, 'f', 6, 64) + "&limit=10"
	return b.newRequest(ctx, http.MethodGet, "/api/v1/people/nearby?"+q, nil)
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
