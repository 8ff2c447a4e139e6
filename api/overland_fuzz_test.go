package api

import (
	"encoding/json"
	"testing"
)

// FuzzOverlandParse: whatever the body, parsing never panics, every fix it
// returns is a valid position, and every item is accounted for once.
func FuzzOverlandParse(f *testing.F) {
	f.Add([]byte(ovlF1))
	f.Add([]byte(`{"locations":[` + ovlLoc("1", "2", `"timestamp":1714557600250,"speed":-1,"course":360,"altitude":-1,"vertical_accuracy":0`) + `],"current":` + ovlLoc("3", "4", `"timestamp":"2024-05-01T03:00:00.5-07"`) + `}`))
	f.Add([]byte(`{"locations":[{"type":"Feature","properties":{"action":"visit"}},` + ovlLoc("180", "-90", `"type":"trip"`) + `,null,{}]}`))
	f.Add([]byte(`{"locations":[` + ovlLoc("1e308", "-0", `"timestamp":"0001-01-01T00:00:00Z","battery_level":1.0000001`) + `]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := parseOverland(body, ovlNow)
		if err != nil {
			if e := toError(err); e.Status != 400 && e.Status != 413 {
				t.Fatalf("whole-body error %v has status %d", err, e.Status)
			}
			return
		}
		for _, fix := range b.Fixes {
			if err := fix.Pos.Validate(); err != nil {
				t.Fatalf("fix %d does not validate: %v", fix.Index, err)
			}
		}
		var top struct {
			Locations []json.RawMessage `json:"locations"`
			Current   json.RawMessage   `json:"current"`
		}
		json.Unmarshal(body, &top)
		want := len(top.Locations)
		if len(top.Current) > 0 && string(top.Current) != "null" {
			want++
		}
		if got := len(b.Fixes) + len(b.Rejected) + b.Skipped; got != want {
			t.Fatalf("%d items accounted for, body has %d", got, want)
		}
		for _, r := range b.Rejected {
			if r.Error == nil || r.Error.Status != 400 {
				t.Fatalf("rejection without a 400 error: %+v", r)
			}
		}
	})
}
