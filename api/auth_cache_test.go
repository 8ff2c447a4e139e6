package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"whereabouts/api"
)

// A device token the server has checked is cached; removing its person
// anywhere (here in SQL, as another instance would) must end it at once on
// this instance too, through the removal's notification, not a minute later
// when the cached entry expires.
func TestDeviceTokenEndsWithItsPersonDespiteTheCache(t *testing.T) {
	s := newService(t, api.Config{DevicesSeeOthers: true})
	id, token := s.newPerson("Courier")
	if r := s.call("PUT", path(id, "/location"), token, `{"lat":52.37,"lon":4.89}`); r.status != http.StatusOK {
		t.Fatalf("move: %d %s", r.status, r.body)
	}
	if r := s.call("GET", "/api/v1/people", token, ""); r.status != http.StatusOK {
		t.Fatalf("list with the device token: %d %s", r.status, r.body)
	}
	if _, err := s.connect().Exec(context.Background(), "DELETE FROM person WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := s.call("GET", "/api/v1/people", token, "")
		if r.status == http.StatusUnauthorized {
			return
		}
		if r.status != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("the removed person's token still answered %d after the removal: %s", r.status, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
