package api

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"whereabouts/geo"
)

// osmNumber reads a decimal number as phones write it: "52.52", "-88.2",
// "1e3", or with a decimal comma ("52,52", from some locales), read as a
// point. Anything else (NaN, Inf, hex, "1,000.5", two commas) is refused
// rather than guessed, so a coordinate is never silently truncated.
func osmNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	if !osmIsDecimal(s) {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return v, nil
}

// osmIsDecimal accepts [+-]digits[.digits][(e|E)[+-]digits] with at least
// one mantissa digit: the syntax every client uses, and nothing that
// strconv.ParseFloat would also take (NaN, Inf, 0x1p3, underscores).
func osmIsDecimal(s string) bool {
	i, digits := 0, 0
	skipSign := func() {
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
	}
	run := func() int {
		n := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			n++
		}
		return n
	}
	skipSign()
	digits += run()
	if i < len(s) && s[i] == '.' {
		i++
		digits += run()
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		skipSign()
		if run() == 0 {
			return false
		}
	}
	return i == len(s)
}

// osmAlt is one wire name of a reading and the factor to its stored unit.
type osmAlt struct {
	name  string
	scale float64
}

const osmKnot = 1852.0 / 3600 // metres per second

// osmParamReadings lists each reading's names in order of preference, with
// units: Traccar Client and OsmAnd send speed in knots, GPSLogger spd in m/s
// (preferred: more precise) and spd_kph in km/h; batt is a percentage
// (Traccar Client "80", GPSLogger "91.0"), always, so "batt=1" is 1 %.
var osmParamReadings = [...]struct {
	field string
	alts  []osmAlt
}{
	{"speed_mps", []osmAlt{{"spd", 1}, {"speed", osmKnot}, {"spd_kph", 1 / 3.6}}},
	{"heading_deg", []osmAlt{{"bearing", 1}, {"heading", 1}, {"dir", 1}}},
	{"altitude_m", []osmAlt{{"altitude", 1}, {"alt", 1}}},
	{"accuracy_m", []osmAlt{{"accuracy", 1}, {"acc", 1}}},
	{"battery", []osmAlt{{"batt", 0.01}, {"battery", 0.01}}},
}

// osmFromParams reads one fix from query or form parameters; nil without
// coordinates (a heartbeat).
func osmFromParams(p osmParams, now time.Time) (*geo.Position, error) {
	pt, ok, err := osmPoint(p)
	if err != nil || !ok {
		return nil, err
	}
	pos := geo.Position{Point: pt}
	if pos.RecordedAt, err = osmPickTime(p, []string{"timestamp", "time", "timeoffset"}, now); err != nil {
		return nil, err
	}
	for _, r := range osmParamReadings {
		for _, alt := range r.alts {
			if v := p.get(alt.name); v != "" {
				n, err := osmNumber(v)
				if err != nil {
					return nil, invalidLocation(alt.name + ": " + err.Error())
				}
				osmSetReading(&pos.Readings, r.field, n, alt.scale)
				break
			}
		}
	}
	if err := pos.Validate(); err != nil {
		return nil, err
	}
	return &pos, nil
}

// osmPoint reads lat and lon under their aliases, or location=lat,lon. ok
// is false when no coordinate was sent (a heartbeat); one without the other
// is an error, not a heartbeat.
func osmPoint(p osmParams) (pt geo.Point, ok bool, err error) {
	lat, lon := p.get("lat", "latitude"), p.get("lon", "lng", "longitude")
	if loc := p.get("location"); loc != "" && lat == "" && lon == "" {
		if lat, lon, err = osmSplitLocation(loc); err != nil {
			return pt, false, err
		}
	}
	switch {
	case lat == "" && lon == "":
		return pt, false, nil
	case lat == "":
		return pt, false, invalidLocation("lon was sent without lat")
	case lon == "":
		return pt, false, invalidLocation("lat was sent without lon")
	}
	if pt.Lat, err = osmNumber(lat); err != nil {
		return pt, false, invalidLocation("lat: " + err.Error())
	}
	if pt.Lon, err = osmNumber(lon); err != nil {
		return pt, false, invalidLocation("lon: " + err.Error())
	}
	return pt, true, nil
}

// osmSplitLocation splits location=lat,lon. The comma is the separator
// there, so decimal commas can only come as four parts: 52,52,13,40.
func osmSplitLocation(v string) (string, string, error) {
	parts := strings.Split(v, ",")
	switch len(parts) {
	case 2:
		return parts[0], parts[1], nil
	case 4:
		return parts[0] + "." + parts[1], parts[2] + "." + parts[3], nil
	}
	return "", "", invalidLocation(fmt.Sprintf("location %q is not lat,lon", v))
}

// osmSetReading stores one reading in its stored unit, unless it is the
// "unknown" sentinel: -1 (Traccar Client, transistorsoft, Overland) or, for
// readings that cannot be negative, any negative value, as Traccar reads
// them. Altitude can be negative, so there only -1 means unknown.
func osmSetReading(r *geo.Readings, field string, v, scale float64) {
	if v == -1 || (v < 0 && field != "altitude_m") {
		return
	}
	v *= scale
	switch field {
	case "speed_mps":
		r.SpeedMPS = &v
	case "heading_deg":
		r.HeadingDeg = &v
	case "altitude_m":
		r.AltitudeM = &v
	case "accuracy_m":
		r.AccuracyM = &v
	case "battery":
		r.Battery = &v
	}
}
