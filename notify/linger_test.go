package notify

import (
	"testing"
	"time"
)

// TestLingerFollowsTheSubscribersRate feeds flushes at steady rates and
// checks the wait each settles on.
func TestLingerFollowsTheSubscribersRate(t *testing.T) {
	var fresh linger
	if got := fresh.wait(); got != maxLinger {
		t.Errorf("before any flush: wait %v, want %v", got, maxLinger)
	}
	for _, tc := range []struct {
		name  string
		n     int           // messages a flush
		every time.Duration // between flushes
		want  time.Duration
	}{
		{"2,000 messages/s (run B)", 4, 2 * time.Millisecond, 2 * time.Millisecond},
		{"500 messages/s (runs A and C)", 2, 4 * time.Millisecond, maxLinger},
		{"a map watching a few people", 1, 200 * time.Millisecond, maxLinger},
		{"20,000 messages/s", 20, time.Millisecond, minLinger},
	} {
		var l linger
		now := time.Unix(1e9, 0)
		for range 60 {
			l.flushed(tc.n, now)
			now = now.Add(tc.every)
		}
		if got := l.wait(); got < tc.want*95/100 || got > tc.want*105/100 {
			t.Errorf("%s: wait %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestLingerForgetsABurst: a subscriber that was busy and went quiet waits
// the longest again after a few flushes, and one that turns busy shortens
// its wait as quickly.
func TestLingerForgetsABurst(t *testing.T) {
	var l linger
	now := time.Unix(1e9, 0)
	for range 60 {
		l.flushed(10, now)
		now = now.Add(2 * time.Millisecond)
	}
	if got := l.wait(); got != minLinger {
		t.Fatalf("busy: wait %v, want %v", got, minLinger)
	}
	for range 8 {
		now = now.Add(time.Second)
		l.flushed(1, now)
	}
	if got := l.wait(); got != maxLinger {
		t.Errorf("quiet again: wait %v, want %v", got, maxLinger)
	}
	for range 8 {
		now = now.Add(2 * time.Millisecond)
		l.flushed(4, now)
	}
	if got := l.wait(); got > 2200*time.Microsecond {
		t.Errorf("busy again after 8 flushes: wait %v, want about 2ms", got)
	}
}
