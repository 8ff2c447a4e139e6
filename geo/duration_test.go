package geo_test

import (
	"testing"
	"time"

	"whereabouts/geo"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"30d", 30 * geo.Day},
		{"2w", 2 * geo.Week},
		{"1w2d", 9 * geo.Day},
		{"1d12h", 36 * time.Hour},
		{"1.5d", 36 * time.Hour},
		{"12h", 12 * time.Hour},
		{"90m", 90 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{" 7d ", 7 * geo.Day},
		{"0", 0},
		{"0d", 0},
		{"-2d", -2 * geo.Day},
		{"+1d", geo.Day},
	} {
		t.Run(tc.in+" is "+tc.want.String(), func(t *testing.T) {
			got, err := geo.ParseDuration(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
	for _, in := range []string{"", "30", "d", "30 d", "30D", "1mo", "1y", "abc", "3.d.5", "1..5d", "-", "d30", "99999999999d", "1e3d"} {
		t.Run(in+" is refused", func(t *testing.T) {
			if got, err := geo.ParseDuration(in); err == nil {
				t.Fatalf("ParseDuration(%q) = %v, want an error", in, got)
			}
		})
	}
}
