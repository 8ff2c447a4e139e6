package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"whereabouts/geo"
)

// fanoutScenario is one fan-out phase: Subs subscribers on loopback while
// Rate positions a second are posted through the API.
type fanoutScenario struct {
	Name string
	Subs int
	Rate int
	BBox bool          // each subscriber watches a random tenth of the city; else everyone
	P99  time.Duration // target; 0: none
}

// fanoutPresets are issue 5's targets on the 2-core machine. C keeps A's
// 500,000 deliveries a second: each subscriber sees a tenth of the moves.
var fanoutPresets = []fanoutScenario{
	{Name: "A", Subs: 1000, Rate: 500, P99: 50 * time.Millisecond},
	{Name: "B", Subs: 100, Rate: 2000, P99: 10 * time.Millisecond},
	{Name: "C", Subs: 1000, Rate: 5000, BBox: true, P99: 50 * time.Millisecond},
}

// fanoutTransports are the stream endpoints a scenario runs over.
var fanoutTransports = map[string]string{"ws": "/api/v1/stream", "sse": "/api/v1/events"}

// parseScenarios reads -fanout: preset names (A, B, C) and custom phases
// SUBS@RATE, with /bbox for tenth-of-the-city subscriptions (no target).
func parseScenarios(s string) ([]fanoutScenario, error) {
	var out []fanoutScenario
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if sc, ok := findPreset(f); ok {
			out = append(out, sc)
			continue
		}
		spec, bbox := strings.CutSuffix(f, "/bbox")
		subs, rate, ok := strings.Cut(spec, "@")
		n, err1 := strconv.Atoi(subs)
		r, err2 := strconv.Atoi(rate)
		if !ok || err1 != nil || err2 != nil || n < 1 || n > 20000 || r < 1 || r > 100000 {
			return nil, fmt.Errorf("%q is neither A, B, C nor SUBS@RATE[/bbox] (1..20000 subscribers, 1..100000 updates/s)", f)
		}
		out = append(out, fanoutScenario{Name: f, Subs: n, Rate: r, BBox: bbox})
	}
	return out, nil
}

func findPreset(name string) (fanoutScenario, bool) {
	for _, p := range fanoutPresets {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return fanoutScenario{}, false
}

func parseTransports(s string) ([]string, error) {
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if _, ok := fanoutTransports[t]; !ok {
			return nil, fmt.Errorf("%q is not a transport (ws, sse)", t)
		}
		out = append(out, t)
	}
	return out, nil
}

func (sc fanoutScenario) filter() string {
	if sc.BBox {
		return "bbox, a tenth of the city each"
	}
	return "everyone"
}

func (sc fanoutScenario) target() string {
	if sc.P99 == 0 {
		return ""
	}
	return fmt.Sprintf("p99 ≤ %d ms, zero loss", sc.P99.Milliseconds())
}

// tenthOfCity is a random box, inside the city, of a tenth of its area.
func tenthOfCity(c city, r *rand.Rand) geo.BBox {
	side := 1 / math.Sqrt(10)
	dLat, dLon := 2*c.DLat*side, 2*c.DLon*side
	minLat := round6(c.Lat - c.DLat + r.Float64()*(2*c.DLat-dLat))
	minLon := round6(c.Lon - c.DLon + r.Float64()*(2*c.DLon-dLon))
	return geo.BBox{MinLon: minLon, MinLat: minLat, MaxLon: round6(minLon + dLon), MaxLat: round6(minLat + dLat)}
}

func bboxParam(b geo.BBox) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	return f(b.MinLon) + "," + f(b.MinLat) + "," + f(b.MaxLon) + "," + f(b.MaxLat)
}

// round6 is what the API receives: positions are sent with six decimals, and
// the bench must judge bbox membership on the same numbers the server does.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// walkStep is how far a person moves per update at most, in metres each
// way: people walk and drive, they do not teleport, so a bbox subscriber
// sees about its share of the moves and few moves across its edge.
const walkStep = 200.0

// step moves p by up to walkStep metres each way, kept inside the city.
func (c city) step(p geo.Point, r *rand.Rand) geo.Point {
	const mPerDeg = 111320.0
	dLat := walkStep / mPerDeg
	dLon := dLat / math.Cos(c.Lat*math.Pi/180)
	lat := min(max(p.Lat+(2*r.Float64()-1)*dLat, c.Lat-c.DLat), c.Lat+c.DLat)
	lon := min(max(p.Lon+(2*r.Float64()-1)*dLon, c.Lon-c.DLon), c.Lon+c.DLon)
	return geo.Point{Lat: round6(lat), Lon: round6(lon)}
}
