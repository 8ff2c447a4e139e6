package notify

import "time"

// linger decides how long a woken writer waits before its first write, so
// that what the hub publishes meanwhile goes out in the same writev. With a
// thousand busy subscribers the writes, mostly the kernel's, are the
// server's largest cost, and a saturated server is what makes the tail
// slow; but every millisecond waited is a millisecond on every message. So
// a writer waits what its subscriber's own rate needs to gather
// lingerBatch messages, within [minLinger, maxLinger].
//
// Measured in the fan-out runs: a fixed 4 ms took run C's p99 (1,000 bbox
// subscribers at 500 moves/s each) from 43-109 ms with 2 ms to 29-43 ms,
// but run B's (100 subscribers at 2,000 moves/s) from 5.4 to 7.5 ms. Now B
// waits 2 ms (p99 5.23-5.76 ms in two full runs, against 7.19-8.55 with a
// fixed 4 ms) and A and C keep their 4 ms; waiting up to 8 ms did not help
// C (its writes already carry about 13 messages each under load). Up to 12
// ms (6 messages' worth) cut the server's CPU by about a seventh in A and
// C, but with p50 4-6 ms higher the targets were met no more often.
//
// Only the writer pump.writing admits touches it: the wake that won it,
// then the drain that wake starts.
type linger struct {
	last time.Time // the previous flush
	rate float64   // messages a second, smoothed over recent flushes
}

const (
	lingerBatch = 4
	minLinger   = time.Millisecond
	maxLinger   = 4 * time.Millisecond
)

// wait is the linger before the next write.
func (l *linger) wait() time.Duration {
	if l.rate <= 0 {
		return maxLinger
	}
	d := time.Duration(lingerBatch / l.rate * float64(time.Second))
	return min(max(d, minLinger), maxLinger)
}

// flushed records a write of n messages at now.
func (l *linger) flushed(n int, now time.Time) {
	if !l.last.IsZero() {
		if dt := now.Sub(l.last).Seconds(); dt > 0 {
			l.rate += (float64(n)/dt - l.rate) / 4
		}
	}
	l.last = now
}
