package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"whereabouts/geo"
)

// simConfig configures the demo mover.
type simConfig struct {
	BaseURL  string        // e.g. http://127.0.0.1:8080
	Token    string        // admin token
	People   int           // how many to walk (default 12)
	Interval time.Duration // time between moves of each person (default 1s)
	Center   geo.Point     // default Amsterdam 4.8952, 52.3702
	Radius   float64       // metres, keep walkers within this of Center (default 3000)
	Seed     uint64        // random seed; 0 picks one
}

// simulateCommand is the `whereabouts simulate` subcommand: it walks demo
// people around a centre until ctx ends.
func simulateCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var cfg simConfig
	fs.StringVar(&cfg.BaseURL, "url", "http://127.0.0.1:8080", "base URL of the Whereabouts server")
	fs.StringVar(&cfg.Token, "token", "", "admin token (default $WHEREABOUTS_ADMIN_TOKEN)")
	fs.IntVar(&cfg.People, "people", 12, "how many people to walk")
	fs.DurationVar(&cfg.Interval, "interval", time.Second, "time between moves of each person")
	center := fs.String("center", "52.3702,4.8952", "centre of the walk as lat,lon")
	fs.Float64Var(&cfg.Radius, "radius", 3000, "metres; people stay within this of the centre")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "random seed (0 picks one)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if cfg.Token == "" {
		cfg.Token = getenv("WHEREABOUTS_ADMIN_TOKEN") // not a flag default: -h would print it
	}
	var err error
	cfg.Center, err = parseLatLon(*center)
	switch {
	case err != nil:
		return fmt.Errorf("simulate: -center: %w", err)
	case cfg.Token == "":
		return errors.New("simulate: an admin token is required (-token or WHEREABOUTS_ADMIN_TOKEN)")
	case fs.NArg() > 0:
		return fmt.Errorf("simulate: unexpected argument %q", fs.Arg(0))
	}
	return runSimulator(ctx, cfg, slog.New(slog.NewTextHandler(stdout, nil)))
}

// parseLatLon reads "lat,lon" into a validated point.
func parseLatLon(s string) (geo.Point, error) {
	latS, lonS, ok := strings.Cut(s, ",")
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(latS), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(lonS), 64)
	if !ok || err1 != nil || err2 != nil {
		return geo.Point{}, fmt.Errorf("%q is not lat,lon", s)
	}
	p := geo.Point{Lon: lon, Lat: lat}
	return p, p.Validate()
}

// simulator is one run: the settings, one HTTP client and its random source.
type simulator struct {
	cfg    simConfig
	log    *slog.Logger
	client *http.Client
	rng    *rand.Rand
}

// walker is a created person with its device token, movement and randomness.
type walker struct {
	id    int64
	token string
	rng   *rand.Rand
	*mover
}

// runSimulator creates the people and walks them until ctx ends.
func runSimulator(ctx context.Context, cfg simConfig, log *slog.Logger) error {
	cfg = cfg.withDefaults()
	if cfg.People < 0 || cfg.Interval < 0 || !(cfg.Radius >= 0) || cfg.Center.Validate() != nil {
		return errors.New("simulate: people, interval and radius must not be negative, center must be valid")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &simulator{cfg: cfg, log: log, client: &http.Client{Timeout: 10 * time.Second},
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	if err := s.clear(ctx); err != nil {
		return fmt.Errorf("simulate: remove old sim people: %w", err)
	}
	walkers := make([]*walker, 0, cfg.People)
	for n := 1; n <= cfg.People; n++ {
		w, err := s.create(ctx, n)
		if err != nil {
			return fmt.Errorf("simulate: create person: %w", err)
		}
		walkers = append(walkers, w)
	}
	log.Info("simulate: walking", "people", len(walkers), "interval", cfg.Interval, "radius_m", cfg.Radius)
	var wg sync.WaitGroup
	for i, w := range walkers {
		delay := time.Duration(i) * cfg.Interval / time.Duration(len(walkers)) // stagger the moves
		wg.Go(func() { s.walk(ctx, w, delay) })
	}
	wg.Wait()
	return nil
}

// withDefaults fills the zero fields with the documented defaults.
func (c simConfig) withDefaults() simConfig {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.People, c.Interval, c.Radius = cmp.Or(c.People, 12), cmp.Or(c.Interval, time.Second), cmp.Or(c.Radius, 3000)
	c.Center = cmp.Or(c.Center, geo.Point{Lon: 4.8952, Lat: 52.3702})
	c.Seed = cmp.Or(c.Seed, rand.Uint64())
	return c
}

// clear deletes the people a previous run left behind (device_id "sim-...").
func (s *simulator) clear(ctx context.Context) error {
	var fc struct {
		Features []struct {
			ID         json.Number `json:"id"`
			Properties struct {
				DeviceID string `json:"device_id"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := s.call(ctx, http.MethodGet, "/api/v1/people", s.cfg.Token, nil, &fc); err != nil {
		return err
	}
	for _, f := range fc.Features {
		if strings.HasPrefix(f.Properties.DeviceID, "sim-") {
			if err := s.call(ctx, http.MethodDelete, "/api/v1/people/"+f.ID.String(), s.cfg.Token, nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// create adds person n. A person without a position is not listed, so an
// earlier run may still hold "sim-n": then a suffixed device_id is used.
func (s *simulator) create(ctx context.Context, n int) (*walker, error) {
	body := map[string]string{"name": simName(n), "device_id": fmt.Sprintf("sim-%d", n)}
	var out struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	err := s.call(ctx, http.MethodPost, "/api/v1/people", s.cfg.Token, body, &out)
	if ae := (*apiError)(nil); errors.As(err, &ae) && ae.Status == http.StatusConflict {
		body["device_id"] = fmt.Sprintf("sim-%d-%08x", n, s.rng.Uint32())
		err = s.call(ctx, http.MethodPost, "/api/v1/people", s.cfg.Token, body, &out)
	}
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(s.rng.Uint64(), s.rng.Uint64()))
	return &walker{id: out.ID, token: out.Token, rng: rng, mover: newMover(rng, s.cfg.Radius)}, nil
}

// simName gives person n a friendly first name, numbered once the list runs out.
func simName(n int) string {
	names := [...]string{"Ada", "Bram", "Chloé", "Daan", "Emma", "Finn", "Greta", "Hugo",
		"Iris", "Jonas", "Kiki", "Lars", "Mila", "Noah", "Olga", "Pim", "Roos", "Sem", "Tess", "Vince"}
	name := names[(n-1)%len(names)]
	if round := (n-1)/len(names) + 1; round > 1 {
		name += " " + strconv.Itoa(round)
	}
	return name
}

// walk moves w every Interval after an initial delay, until ctx ends. Failed
// moves are logged and the walk goes on: the server may be restarting.
func (s *simulator) walk(ctx context.Context, w *walker, delay time.Duration) {
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			t.Reset(s.cfg.Interval)
		}
		w.step(w.rng, s.cfg.Interval.Seconds(), s.cfg.Radius)
		p := w.point(s.cfg.Center)
		body := map[string]float64{"lat": p.Lat, "lon": p.Lon, "speed_mps": w.speed,
			"heading_deg": w.heading, "battery": w.battery}
		path := "/api/v1/people/" + strconv.FormatInt(w.id, 10) + "/location"
		if err := s.call(ctx, http.MethodPut, path, w.token, body, nil); err != nil && ctx.Err() == nil {
			s.log.Warn("simulate: move failed", "person_id", w.id, "err", err)
		}
	}
}

// apiError is a non-2xx answer, with the API's error code and message.
type apiError struct {
	Status        int
	Code, Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// call sends one JSON request with the bearer token and decodes a 2xx answer
// into out (when not nil); any other answer becomes an *apiError.
func (s *simulator) call(ctx context.Context, method, path, token string, body, out any) error {
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, s.cfg.BaseURL+path, &buf)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct{ Error apiError }
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e)
		e.Error.Status, e.Error.Message = resp.StatusCode, cmp.Or(e.Error.Message, http.StatusText(resp.StatusCode))
		return fmt.Errorf("%s %s: %w", method, path, &e.Error)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// earthRadius is the mean radius of the earth in metres.
const earthRadius = 6371008.8

// mover is the pure movement of one person: metres east (x) and north (y) of
// the centre, a compass heading, a speed kept inside its class, a battery.
type mover struct {
	x, y, heading, speed, battery float64
	minSpeed, maxSpeed            float64
}

// newMover places a walker, cyclist or van at random within half the radius.
func newMover(rng *rand.Rand, radius float64) *mover {
	classes := [...][2]float64{{1, 2}, {1, 2}, {4, 6}, {8, 14}} // walkers, cyclists, vans
	c := classes[rng.IntN(len(classes))]
	r, a := radius/2*math.Sqrt(rng.Float64()), rng.Float64()*2*math.Pi
	return &mover{x: r * math.Cos(a), y: r * math.Sin(a), heading: rng.Float64() * 360,
		speed: c[0] + rng.Float64()*(c[1]-c[0]), battery: 0.5 + rng.Float64()/2,
		minSpeed: c[0], maxSpeed: c[1]}
}

// step advances m by dt seconds: the heading drifts, the speed wanders within
// its class, the battery drains; near the edge the mover steers back, and a
// move that would leave the radius heads straight for the centre instead.
func (m *mover) step(rng *rand.Rand, dt, radius float64) {
	home := compass(math.Atan2(-m.x, -m.y) * 180 / math.Pi)
	m.heading += rng.NormFloat64() * 8
	if math.Hypot(m.x, m.y) > 0.8*radius {
		m.heading += math.Max(-25, math.Min(25, compass(home-m.heading+180)-180))
	}
	m.speed = math.Max(m.minSpeed, math.Min(m.maxSpeed, m.speed+rng.NormFloat64()*0.1*(m.maxSpeed-m.minSpeed)))
	d := math.Min(m.speed*dt, radius)
	x, y := m.ahead(d)
	if math.Hypot(x, y) > radius {
		m.heading = home
		x, y = m.ahead(d)
	}
	m.x, m.y, m.heading = x, y, compass(m.heading)
	m.battery = math.Max(0, m.battery-dt*(2e-5+rng.Float64()*4e-5))
}

// ahead is where d metres along the current heading would take m.
func (m *mover) ahead(d float64) (x, y float64) {
	h := m.heading * math.Pi / 180
	return m.x + d*math.Sin(h), m.y + d*math.Cos(h)
}

// compass brings degrees into [0, 360).
func compass(deg float64) float64 {
	return math.Mod(math.Mod(deg, 360)+360, 360) // the outer Mod: -1e-14 + 360 rounds to 360
}

// point turns m's offset into WGS 84 near center (equirectangular, fine for a
// few kilometres), clamping latitude and wrapping longitude.
func (m *mover) point(center geo.Point) geo.Point {
	lat := center.Lat + m.y/earthRadius*180/math.Pi
	cos := math.Max(math.Cos(center.Lat*math.Pi/180), 0.01)
	lon := center.Lon + m.x/(earthRadius*cos)*180/math.Pi
	return geo.Point{Lon: compass(lon+180) - 180, Lat: math.Max(-90, math.Min(90, lat))}
}
