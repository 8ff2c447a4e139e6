package geo

import (
	"fmt"
	"time"
)

// Mode says what a Policy rule does with a fix it catches.
type Mode string

const (
	Off    Mode = "off"    // accept as usual
	Flag   Mode = "flag"   // keep in history, but do not move the live marker
	Reject Mode = "reject" // refuse with an error
)

// ParseMode reads "off", "flag" or "reject".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Off, Flag, Reject:
		return m, nil
	}
	return "", fmt.Errorf("%q is not off, flag or reject", s)
}

// Policy is what a dispatcher decides about suspicious fixes: GPS chips
// report 0,0 before they have a fix, phones with a wrong clock stamp the
// future, and a cell-tower fix can be kilometres off.
type Policy struct {
	NullIsland   Mode    // lat 0, lon 0 exactly
	Future       Mode    // more than MaxFuture ahead of the server clock
	Inaccurate   Mode    // accuracy worse than MaxAccuracyM
	MaxAccuracyM float64 // 0: no limit
}

// DefaultPolicy flags 0,0 and rejects the future, as the API contract says.
var DefaultPolicy = Policy{NullIsland: Flag, Future: Reject, Inaccurate: Off}

// Check applies the policy to a position that passed Validate. It returns
// the flag to store with the fix ("" when it may move the marker), or a
// *FieldError when the policy rejects it.
func (pol Policy) Check(p Position, now time.Time) (string, error) {
	rules := []struct {
		hit    bool
		mode   Mode
		flag   string
		reject *FieldError
	}{
		{p.Lat == 0 && p.Lon == 0, pol.NullIsland, "null_island",
			&FieldError{Field: "lat", Reason: "and lon are both 0, which GPS reports before it has a fix"}},
		{p.RecordedAt.After(now.Add(MaxFuture)), pol.Future, "future",
			&FieldError{Field: "recorded_at", Reason: "is more than 5 minutes in the future"}},
		{pol.MaxAccuracyM > 0 && p.AccuracyM != nil && *p.AccuracyM > pol.MaxAccuracyM, pol.Inaccurate, "inaccurate",
			&FieldError{Field: "accuracy_m", Reason: fmt.Sprintf("is worse than the %g m this server accepts", pol.MaxAccuracyM)}},
	}
	// Any rejection wins over any flag.
	for _, r := range rules {
		if r.hit && r.mode == Reject {
			return "", r.reject
		}
	}
	for _, r := range rules {
		if r.hit && r.mode == Flag {
			return r.flag, nil
		}
	}
	return "", nil
}
