package api_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"whereabouts/api"
)

func osmVector(name string) api.OsmVector {
	for _, v := range api.OsmVectors {
		if v.Name == name {
			return v
		}
	}
	panic("no vector " + name)
}

func osmBasic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

func TestOsmAndFindsTheDeviceWhereEachAppCanPutIt(t *testing.T) {
	e := osmNewEnv(t)
	fix := "lat=60.0&lon=30.0&timestamp=1377177267"
	cases := []struct {
		name, method, target, ctype, body string
		header                            func(tok string) []string
	}{
		{"the device token as Traccar Client's device identifier", "GET", "/?id={tok}&" + fix, "", "", nil},
		{"a token parameter beside the device_id", "GET", "/?id={dev}&token={tok}&" + fix, "", "", nil},
		{"a token parameter and no id", "GET", "/?token={tok}&" + fix, "", "", nil},
		{"a token in the form body", "POST", "/", "application/x-www-form-urlencoded", "id={dev}&token={tok}&" + fix, nil},
		{"a token at the top of Traccar Client's JSON", "POST", "/", "application/json",
			`{"location":{"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":1,"longitude":2}},"device_id":"{dev}","token":"{tok}"}`, nil},
		{"a Bearer header and the device token as the id", "GET", "/?id={tok}&" + fix, "", "",
			func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }},
		{"GPSLogger's Basic auth password", "GET", osmVector("E1").Target, "", "",
			func(tok string) []string { return []string{"Authorization", "Basic " + osmBasic("anything", tok)} }},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dev := fmt.Sprint("dev-", i)
			id, tok := e.newDevice("p-"+dev, dev)
			fill := strings.NewReplacer("{tok}", url.QueryEscape(tok), "{dev}", dev)
			var header []string
			if c.header != nil {
				header = c.header(tok)
			}
			r := e.send(c.method, e.osmURL+fill.Replace(c.target), c.ctype, fill.Replace(c.body), header...)
			if r.status != 200 || len(r.body) != 0 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if n := len(e.storedHistory(id)); n != 1 {
				t.Fatalf("%d rows stored", n)
			}
		})
	}
}

func TestOsmAndRefusesWhoItCannotPlace(t *testing.T) {
	e := osmNewEnv(t)
	idA, tokA := e.newDevice("p-123456", "123456")
	idB, _ := e.newDevice("p-654321", "654321")
	fix := "&lat=60.0&lon=30.0&timestamp=1377177267"
	cases := []struct {
		name, target string
		header       []string
		status       int
		code         string
	}{
		{"A10: no device id and no credential", osmVector("A10").Target, nil, 400, "invalid_parameter"},
		{"A1 as Traccar sends it: a plain device id is not a token", osmVector("A1").Target, nil, 401, "unauthorized"},
		{"a wrong Bearer token", "/?id=123456" + fix, []string{"Authorization", "Bearer nope"}, 401, "unauthorized"},
		{"a wrong token parameter", "/?id=123456&token=nope" + fix, nil, 401, "unauthorized"},
		{"the admin token, which is no device", "/?id=123456" + fix, []string{"Authorization", "Bearer " + adminToken}, 401, "unauthorized"},
		{"another device's id", "/?id=654321" + fix, []string{"Authorization", "Bearer " + tokA}, 403, "forbidden"},
		{"a bad fix from a stranger is still a 401", "/?id=nope&lat=91&lon=0", nil, 401, "unauthorized"},
		{"two device ids", "/?id=123456&deviceid=654321" + fix, []string{"Authorization", "Bearer " + tokA}, 400, "invalid_parameter"},
		{"a broken escape", "/?id=123456&desc=%zz" + fix, []string{"Authorization", "Bearer " + tokA}, 400, "invalid_parameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.send("GET", e.osmURL+c.target, "", "", c.header...)
			if r.status != c.status || r.errorCode(t) != c.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
		})
	}
	if len(e.storedHistory(idA)) != 0 || len(e.storedHistory(idB)) != 0 {
		t.Fatal("a refused request stored a fix")
	}
	t.Run("PUT is not part of the protocol", func(t *testing.T) {
		r := e.send("PUT", e.osmURL+"/?id="+tokA+fix, "", "")
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, POST" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}
