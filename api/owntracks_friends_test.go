package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"whereabouts/api"
)

func TestOwnTracksAnswersWithFriends(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	_, janeTok := s.newDevice("Jane", "jane")
	bob, bobTok := s.newDevice("Bob", "bob")
	jack, jackTok := s.newDevice("Jack", "jack")
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	r := s.call("PUT", path(bob, "/location"), bobTok, fmt.Sprintf(`{"lat":48.1,"lon":11.5,"recorded_at":"%s",`+
		`"accuracy_m":5,"speed_mps":2.5,"heading_deg":90,"altitude_m":520,"battery":0.8}`, at.Format(time.RFC3339)))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	bobMsgs := fmt.Sprintf(`{"_type":"card","name":"Bob","tid":"BO","topic":"owntracks/whereabouts/bob"},`+
		`{"_type":"location","lat":48.1,"lon":11.5,"tst":%d,"tid":"BO","topic":"owntracks/whereabouts/bob","acc":5,"alt":520,"vel":9,"cog":90,"batt":80}`, at.Unix())
	jane := otRequest{user: "jane", pass: janeTok, body: otD1}
	if r := s.otPost(jane); r.status != 200 || string(r.body) != "["+bobMsgs+"]" {
		t.Fatalf("Jane sees %d %s\nwant [%s]", r.status, r.body, bobMsgs)
	}
	// Jack's tag collides with Jane's, who came first: he gets his id appended.
	janeMsgs := `{"_type":"card","name":"Jane","tid":"JA","topic":"owntracks/whereabouts/jane"},` +
		`{"_type":"location","lat":53.430722,"lon":5.112126,"tst":1701263310,"tid":"JA","topic":"owntracks/whereabouts/jane","acc":9,"alt":93,"vel":1,"cog":252,"batt":94}`
	if r := s.otPost(otRequest{user: "jack", pass: jackTok, body: otD1}); string(r.body) != "["+janeMsgs+","+bobMsgs+"]" {
		t.Fatalf("Jack sees %s\nwant [%s,%s]", r.body, janeMsgs, bobMsgs)
	}
	r = s.otPost(jane)
	jackTID := fmt.Sprintf(`"tid":"JA-%d","topic":"owntracks/whereabouts/jack"`, jack)
	if !strings.HasPrefix(string(r.body), "["+bobMsgs+",") || strings.Count(string(r.body), jackTID) != 2 || strings.Contains(string(r.body), `"name":"Jane"`) {
		t.Fatalf("Jane sees %s", r.body)
	}
}

func TestOwnTracksAnswersNoFriendsWhenDevicesMayNotSeeOthers(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: false})
	_, janeTok := s.newDevice("Jane", "jane")
	bob, bobTok := s.newDevice("Bob", "bob")
	if r := s.call("PUT", path(bob, "/location"), bobTok, `{"lat":48.1,"lon":11.5}`); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := s.otPost(otRequest{user: "jane", pass: janeTok, body: otD1}); r.status != 200 || string(r.body) != "[]" {
		t.Fatalf("%d %s", r.status, r.body)
	}
}
