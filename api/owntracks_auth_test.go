package api_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"whereabouts/api"
)

func TestOwnTracksAuthentication(t *testing.T) {
	s := newService(t, api.Config{})
	_, tok := s.newDevice("Jane", "jane")
	_, bobTok := s.newDevice("Bob", "bob")
	anonID, anonTok := s.newDevice("Anon", "")
	loc := `{"_type":"location","lat":1,"lon":1}`
	cases := []struct {
		name   string
		req    otRequest
		bearer string
		status int
		code   string
	}{
		{"no credentials", otRequest{body: loc}, "", 401, "unauthorized"},
		{"a wrong password", otRequest{user: "jane", pass: "nope", body: loc}, "", 401, "unauthorized"},
		{"an empty password", otRequest{user: "jane", body: loc}, "", 401, "unauthorized"},
		{"someone else's device_id as user", otRequest{user: "bob", pass: tok, body: loc}, "", 403, "forbidden"},
		{"hints naming someone else", otRequest{query: "?u=bob&d=tablet", user: "jane", pass: tok, body: loc,
			header: map[string]string{"X-Limit-U": "bob"}}, "", 200, ""},
		{"a Bearer token", otRequest{body: loc}, bobTok, 200, ""},
		{"a person without device_id, by id", otRequest{user: strconv.FormatInt(anonID, 10), pass: anonTok, body: loc}, "", 200, ""},
		{"a person without device_id, by name", otRequest{user: "anon", pass: anonTok, body: loc}, "", 403, "forbidden"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.bearer != "" {
				c.req.header = map[string]string{"Authorization": "Bearer " + c.bearer}
			}
			r := s.otPost(c.req)
			if r.status != c.status || (c.code != "" && r.errorCode(t) != c.code) {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
			if got := r.header.Get("WWW-Authenticate"); (c.status == 401) != (got == `Basic realm="whereabouts"`) {
				t.Fatalf("WWW-Authenticate %q with status %d", got, r.status)
			}
		})
	}
}

func TestOwnTracksRefusesBadInputAndStoresNothing(t *testing.T) {
	s := newService(t, api.Config{})
	id, tok := s.newDevice("Jane", "jane")
	future := time.Now().Add(10 * time.Minute).Unix()
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"garbage", `this is not json`, 400, "invalid_json"},
		{"a message without _type", `{"lat":1,"lon":1}`, 400, "invalid_json"},
		{"lat 91", `{"_type":"location","lat":91,"lon":1,"tst":1701263310}`, 400, "invalid_location"},
		{"NaN as a string", `{"_type":"location","lat":"NaN","lon":1}`, 400, "invalid_location"},
		{"a phone clock ten minutes fast", fmt.Sprintf(`{"_type":"location","lat":1,"lon":1,"tst":%d}`, future), 400, "invalid_location"},
		{"an encrypted payload", `{"_type":"encrypted","data":"YWJjZGUK"}`, 400, "unsupported_message"},
		{"a 2 MiB body", `{"_type":"location","lat":1,"lon":1,"pad":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "body_too_large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.otPost(otRequest{user: "jane", pass: tok, body: c.body})
			if r.status != c.status || r.errorCode(t) != c.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
		})
	}
	if h := s.storedHistory(id); len(h) != 0 {
		t.Fatalf("stored %v", h)
	}
}
