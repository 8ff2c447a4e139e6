package api

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// osmStamp is a parsed time and how far to trust it: its number of
// fractional-second digits, or -1 for a time without a zone (read as UTC,
// but it may be local), so the most precise unambiguous field wins.
type osmStamp struct {
	t     time.Time
	score int
}

// Zoned layouts first; Go's parser takes any fractional seconds after
// "05" even though the layouts do not spell them.
var osmZoned = [...]string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05Z07"}

// osmParseTime reads every time format these clients send: Unix seconds or
// milliseconds (below 2147483647 is seconds, Traccar's rule), Traccar's
// 12-digit ddMMyyHHmmss, ISO 8601 with Z, +02:00, +0200 or +02, and
// "yyyy-MM-dd HH:mm:ss[.SSS]" without a zone, taken as UTC.
func osmParseTime(s string) (osmStamp, error) {
	s = strings.TrimSpace(s)
	if len(s) == 12 && osmIsDigits(s) {
		if t, err := time.Parse("020106150405", s); err == nil {
			return osmStamp{t: t, score: 0}, nil
		}
	}
	if osmIsDecimal(s) {
		return osmUnix(s)
	}
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	// A "+" sent unencoded in a URL arrives as a space: 21:24:29.949 02:00.
	if i := strings.LastIndexByte(s, ' '); i > 10 {
		s = s[:i] + "+" + s[i+1:]
	}
	for _, layout := range osmZoned {
		if t, err := time.Parse(layout, s); err == nil {
			return osmStamp{t: t.UTC(), score: osmFraction(s)}, nil
		}
	}
	if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return osmStamp{t: t, score: -1}, nil
	}
	return osmStamp{}, fmt.Errorf("%q is neither Unix seconds/milliseconds nor an ISO 8601 time", s)
}

// osmUnix reads a Unix time in seconds or milliseconds, told apart by
// magnitude as Traccar does.
func osmUnix(s string) (osmStamp, error) {
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || n > 1e15 {
		return osmStamp{}, fmt.Errorf("%q is not a Unix time", s)
	}
	digits := 0
	if _, frac, ok := strings.Cut(s, "."); ok {
		digits = len(frac)
	}
	if n < math.MaxInt32 {
		sec, frac := math.Modf(n)
		return osmStamp{t: time.Unix(int64(sec), int64(frac*1e9)).UTC(), score: min(digits, 9)}, nil
	}
	ms, frac := math.Modf(n)
	t := time.UnixMilli(int64(ms)).Add(time.Duration(frac * 1e6)).UTC()
	return osmStamp{t: t, score: min(3+digits, 9)}, nil
}

// osmFraction counts the fractional-second digits of an ISO time.
func osmFraction(s string) int {
	if len(s) < 20 || (s[19] != '.' && s[19] != ',') {
		return 0
	}
	n := 0
	for _, c := range s[20:] {
		if c < '0' || c > '9' {
			break
		}
		n++
	}
	return n
}

func osmIsDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// osmPickTime chooses among the time fields a client sent (GPSLogger sends
// timestamp, time and timeoffset for one instant): the highest score wins,
// the earlier field in names on a tie; none at all means now. A field that
// does not parse is an error, not skipped: it would be a guess.
func osmPickTime(p osmParams, names []string, now time.Time) (time.Time, error) {
	best, found := osmStamp{t: now}, false
	for _, name := range names {
		v := p.get(name)
		if v == "" {
			continue
		}
		st, err := osmParseTime(v)
		if err != nil {
			return time.Time{}, invalidLocation(name + ": " + err.Error())
		}
		if !found || st.score > best.score {
			best, found = st, true
		}
	}
	return best.t, nil
}
