package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// otPerson creates a person with a device_id and returns its id and token.
func otPerson(s *service, name, deviceID string) (int64, string) {
	s.t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "device_id": deviceID})
	r := s.call("POST", "/api/v1/people", adminToken, string(body))
	if r.status != http.StatusCreated {
		s.t.Fatalf("create %s: %d %s", name, r.status, r.body)
	}
	v := r.json(s.t)
	return int64(v["id"].(float64)), v["token"].(string)
}

// otRequest is one POST to the OwnTracks endpoint as an app or curl sends it.
type otRequest struct {
	query, user, pass, ctype string
	header                   map[string]string
	body                     string
}

func (s *service) otPost(q otRequest) response {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.url+"/ingest/owntracks"+q.query, bytes.NewReader([]byte(q.body)))
	if err != nil {
		s.t.Fatal(err)
	}
	if q.user != "" || q.pass != "" {
		req.SetBasicAuth(q.user, q.pass)
	}
	if q.ctype != "" {
		req.Header.Set("Content-Type", q.ctype)
	}
	for k, v := range q.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}
