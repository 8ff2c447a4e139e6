package api_test

import (
	"bytes"
	"io"
	"net/http"
)

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
