package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"whereabouts/pgcluster/pgtest"
)

// TestDatabaseOutageIsReportedAndHealed stops the PostgreSQL cluster under a
// running server: /readyz and the API answer 503 unavailable with the JSON
// error body, and both recover once PostgreSQL is back.
func TestDatabaseOutageIsReportedAndHealed(t *testing.T) {
	url, _, _ := startServe(t, map[string]string{"WHEREABOUTS_ADMIN_TOKEN": "admin-secret"}, "-database-url", pgtest.NewDB(t))
	id, token := createPerson(t, url, "admin-secret", "Ada")
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
	move(t, url, token, id, 52.37, 4.89)
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
