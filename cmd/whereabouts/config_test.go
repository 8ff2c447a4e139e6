package main

import (
	"io"
	"testing"
	"time"

	"whereabouts/geo"
)

func TestConfigReadsTheEnvironmentAndFlagsWin(t *testing.T) {
	env := map[string]string{
		"WHEREABOUTS_ADDR":               "127.0.0.1:9999",
		"WHEREABOUTS_DEVICES_SEE_OTHERS": "false",
		"WHEREABOUTS_TILE_URL":           "none",
		"WHEREABOUTS_FILTER_NULL_ISLAND": "reject",
		"WHEREABOUTS_MAX_ACCURACY_M":     "150",
		"WHEREABOUTS_HISTORY_RETENTION":  "30d",
		"WHEREABOUTS_POLL_TIMEOUT":       "40s",
	}
	c, err := parseConfig("serve", []string{"-addr", "127.0.0.1:7777"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := geo.Policy{NullIsland: geo.Reject, Future: geo.Reject, Inaccurate: geo.Flag, MaxAccuracyM: 150}
	if c.Addr != "127.0.0.1:7777" || c.DevicesSeeOthers || c.TileURL != "" || c.Policy != want || c.HistoryRetention != 30*24*time.Hour ||
		c.PollTimeout != 40*time.Second {
		t.Fatalf("config %+v", c)
	}
	for key, bad := range map[string]string{
		"WHEREABOUTS_FILTER_FUTURE":      "sometimes",
		"WHEREABOUTS_MAX_ACCURACY_M":     "-3",
		"WHEREABOUTS_DEVICES_SEE_OTHERS": "maybe",
		"WHEREABOUTS_HISTORY_RETENTION":  "6m",
		"WHEREABOUTS_GROUP_COMMIT_ROWS":  "many",
		"WHEREABOUTS_GROUP_COMMIT_DELAY": "-1ms",
		"WHEREABOUTS_POLL_TIMEOUT":       "0s",
	} {
		if _, err := parseConfig("serve", nil, func(k string) string { return map[string]string{key: bad}[k] }, io.Discard); err == nil {
			t.Errorf("%s=%s accepted", key, bad)
		}
	}
}
