package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"whereabouts/pgcluster/pgtest"
)

// TestDatabaseOutageIsReportedAndHealed stops the PostgreSQL cluster under a
// running server while writers keep posting and WebSocket and SSE clients
// watch: /readyz and the API answer 503 unavailable with the JSON error body,
// both recover once PostgreSQL is back, and every client converges to the
// database's final state.
func TestDatabaseOutageIsReportedAndHealed(t *testing.T) {
	url, _, _ := startServe(t, map[string]string{"WHEREABOUTS_ADMIN_TOKEN": "admin-secret"}, "-database-url", pgtest.NewDB(t))
	var ids []int64
	for _, name := range []string{"Ada", "Bob", "Cy"} {
		id, _ := createPerson(t, url, "admin-secret", name)
		move(t, url, "admin-secret", id, 52.37, 4.89)
		ids = append(ids, id)
	}
	var clients []*streamClient
	for i := range 4 {
		c := &streamClient{t: t, url: url, sse: i%2 == 1, versions: map[int64]int64{}}
		c.dial()
		clients = append(clients, c)
	}

	// Writers keep moving everyone, through the outage; what fails, fails.
	ctx, stopWriters := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var accepted atomic.Int64
	for _, id := range ids {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				body := fmt.Sprintf(`{"lat":52.37,"lon":%g}`, 4.89+float64(n%1000)/10000)
				req, _ := http.NewRequestWithContext(ctx, "PUT", fmt.Sprintf("%s/api/v1/people/%d/location", url, id), strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer admin-secret")
				req.Header.Set("Content-Type", "application/json")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					if resp.StatusCode == http.StatusOK {
						accepted.Add(1)
					}
					resp.Body.Close()
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	defer func() { stopWriters(); wg.Wait() }()

	cl := pgtest.Cluster()
	if err := cl.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			cl.Start(context.Background())
		}
	}()
	waitStatus(t, url+"/readyz", "", http.StatusServiceUnavailable, "unavailable")
	waitStatus(t, url+"/api/v1/people", "admin-secret", http.StatusServiceUnavailable, "unavailable")

	if err := cl.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	waitStatus(t, url+"/readyz", "", http.StatusOK, "")
	for before := accepted.Load(); accepted.Load() < before+30; { // writes flow again
		time.Sleep(10 * time.Millisecond)
	}
	stopWriters()
	wg.Wait()

	want := map[int64]int64{}
	for _, id := range ids {
		var f struct {
			Properties struct{ Version int64 } `json:"properties"`
		}
		if status := request(t, "GET", fmt.Sprintf("%s/api/v1/people/%d", url, id), "admin-secret", "", &f); status != http.StatusOK {
			t.Fatalf("get %d: %d", id, status)
		}
		want[id] = f.Properties.Version
	}
	for _, c := range clients {
		c.readUntil(want)
		for id, v := range want {
			if c.versions[id] != v {
				t.Errorf("client (sse %v) holds person %d at version %d, the database %d", c.sse, id, c.versions[id], v)
			}
		}
	}
}

// waitStatus polls until url answers status (and, for errors, that error
// code in the JSON body).
func waitStatus(t *testing.T, url, token string, status int, code string) {
	t.Helper()
	var last string
	for range 400 {
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			json.Unmarshal(body, &e)
			if resp.StatusCode == status && e.Error.Code == code && (code == "" || e.Error.Message != "") {
				return
			}
			last = resp.Status + " " + string(body)
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d %s; last: %s", url, status, code, last)
}
