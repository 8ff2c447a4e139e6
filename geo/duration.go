package geo

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day and Week are the calendar-free units ParseDuration adds to Go's: a day
// is always 24 hours (no daylight-saving or leap-second adjustment).
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

// ParseDuration reads a Go duration ("12h", "90m", "1h30m") that may also use
// days and weeks ("30d", "2w", "1d12h", "1.5d"), as people write retention
// periods and time windows. There is no month or year unit: their length
// varies, and "m" already means minutes.
func ParseDuration(s string) (time.Duration, error) {
	goSyntax, ok := daysToHours(strings.TrimSpace(s))
	if ok {
		if d, err := time.ParseDuration(goSyntax); err == nil {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%q is not a duration: write a number and a unit, e.g. 30d, 2w, 12h or 90m", s)
}

// daysToHours rewrites each day or week term of s in hours ("1d12h" becomes
// "24h12h"), which time.ParseDuration then adds up and range-checks.
func daysToHours(s string) (string, bool) {
	var b strings.Builder
	if s != "" && (s[0] == '-' || s[0] == '+') {
		b.WriteByte(s[0])
		s = s[1:]
	}
	for s != "" {
		n := strings.IndexFunc(s, func(r rune) bool { return r != '.' && (r < '0' || r > '9') })
		if n < 0 { // a bare number: Go accepts "0" alone
			b.WriteString(s)
			break
		}
		if n == 0 { // a unit without a number
			return "", false
		}
		u := strings.IndexFunc(s[n:], func(r rune) bool { return r == '.' || (r >= '0' && r <= '9') })
		if u < 0 {
			u = len(s) - n
		}
		num, unit := s[:n], s[n:n+u]
		s = s[n+u:]
		var per float64 // hours in one unit
		switch unit {
		case "d":
			per = 24
		case "w":
			per = 7 * 24
		default:
			b.WriteString(num + unit)
			continue
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return "", false
		}
		b.WriteString(strconv.FormatFloat(f*per, 'f', -1, 64) + "h")
	}
	return b.String(), true
}
