package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// findPgbench prefers the newest server installation's pgbench, then PATH.
func findPgbench() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	slices.SortFunc(matches, func(a, b string) int { return majorOf(b) - majorOf(a) })
	if len(matches) > 0 {
		return matches[0], nil
	}
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	return "", errors.New("pgbench not found; it comes with the PostgreSQL server package (apt-get install postgresql-15)")
}

func majorOf(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// pointVars sets :lat and :lon to a uniform random point of the city, the
// same square the HTTP clients draw from (pgbench has random() and double
// arithmetic, but no trigonometry).
func pointVars(c city) string {
	return fmt.Sprintf("\\set lat %.6f + (random(0, 1000000) - 500000) * %.15f\n"+
		"\\set lon %.6f + (random(0, 1000000) - 500000) * %.15f\n",
		c.Lat, c.DLat/500000, c.Lon, c.DLon/500000)
}

// ingestScript is one PUT .../location: the history insert and the live
// move of store/locations.go (moveRound) as single-row statements,
// RETURNING what the server reads back, in one transaction; the
// person_notify trigger fires pg_notify as for the server. The transaction
// is one pipeline (one round trip), as few as any client can do, so the
// ceiling is not lowered by pgbench's own round trips.
func ingestScript(people int, c city) string {
	return fmt.Sprintf("\\set id random(1, %d)\n", people) + pointVars(c) + `\startpipeline
BEGIN;
INSERT INTO location_history (person_id, loc, recorded_at) VALUES (:id, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, now()) ON CONFLICT DO NOTHING RETURNING person_id;
UPDATE person p SET loc = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, recorded_at = now(), updated_at = now(), seen_at = now(), version = p.version + 1 WHERE p.id = :id AND (p.recorded_at IS NULL OR p.recorded_at <= now()) RETURNING p.id, p.version, p.name, p.device_id, p.updated_at, p.seen_at;
COMMIT;
\endpipeline
`
}

// batchScript is one POST /api/v1/locations of size distinct people: the
// transaction store/locations.go sends (one moveRound;
// TestBatchSQLMirrorsStore keeps them equal), with the arrays drawn first,
// outside the transaction: size people from a random start with a fixed
// stride coprime to people, so they are distinct, in id order as the
// server sends them; the readings and flags are empty arrays (NULL), as in
// the server's run.
func batchScript(people, size int, c city) string {
	step := stride(people, size)
	return fmt.Sprintf(`\set off random(0, %[1]d)
SELECT array_agg(1 + (:off + k * %[2]d) %% %[3]d ORDER BY (:off + k * %[2]d) %% %[3]d) AS ids, array_agg(%.6[4]f + (2 * random() - 1) * %.9[5]f) AS lats, array_agg(%.6[6]f + (2 * random() - 1) * %.9[7]f) AS lons, array_agg(now()) AS ats, '{}'::float8[] AS nulls, '{}'::text[] AS flags FROM generate_series(0, %[8]d) AS k \gset
\startpipeline
BEGIN;
`, people-1, step, people, c.Lat, c.DLat, c.Lon, c.DLon, size-1) +
		normSQL(batchRound) + ";\n" + `COMMIT;
\endpipeline
`
}

// normSQL puts a statement on one line (a pgbench script reads one command
// a line); tests compare statements with it whatever their indentation.
func normSQL(s string) string {
	s = strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimSpace(s), ";")), " ")
	return strings.NewReplacer("( ", "(", " )", ")").Replace(s)
}

// batchRound is the batch transaction's statement, as store/locations.go
// has it.
const batchRound = `WITH fix AS (
	SELECT u.*, k.id IS NOT NULL AS known
	FROM unnest(:ids::bigint[], :lons::float8[], :lats::float8[], :ats::timestamptz[],
	:nulls::float8[], :nulls::float8[], :nulls::float8[], :nulls::float8[], :nulls::float8[], :flags::text[])
	AS u(person_id, lon, lat, recorded_at, accuracy_m, speed_mps, heading_deg, altitude_m, battery, flag)
	LEFT JOIN LATERAL (SELECT id FROM person WHERE id = u.person_id FOR NO KEY UPDATE) k ON true),
ins AS (
	INSERT INTO location_history
		(person_id, loc, recorded_at, accuracy_m, speed_mps, heading_deg, altitude_m, battery, flag)
	SELECT person_id, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, recorded_at,
		accuracy_m, speed_mps, heading_deg, altitude_m, battery, flag
	FROM fix
	WHERE known
	ON CONFLICT DO NOTHING
	RETURNING *),
mv AS (
	UPDATE person p SET loc = ins.loc,
		recorded_at = ins.recorded_at, updated_at = now(), seen_at = now(), version = p.version + 1,
		accuracy_m = ins.accuracy_m, speed_mps = ins.speed_mps, heading_deg = ins.heading_deg,
		altitude_m = ins.altitude_m, battery = ins.battery
	FROM ins
	WHERE p.id = ins.person_id AND ins.flag IS NULL
		AND (p.recorded_at IS NULL OR p.recorded_at <= ins.recorded_at)
	RETURNING p.id, p.version, p.name, p.device_id, p.updated_at, p.seen_at),
seen AS (
	UPDATE person p SET seen_at = now()
	FROM fix
	WHERE p.id = fix.person_id AND fix.known AND p.seen_at IS DISTINCT FROM now()
		AND NOT EXISTS (SELECT 1 FROM mv WHERE mv.id = fix.person_id))
SELECT fix.person_id, fix.known, ins.person_id IS NOT NULL, mv.id IS NOT NULL,
	mv.version, mv.name, mv.device_id, mv.updated_at, mv.seen_at
FROM fix LEFT JOIN ins ON ins.person_id = fix.person_id LEFT JOIN mv ON mv.id = fix.person_id`

// stride is the smallest step >= people/size that is coprime to people, so
// size steps from any start visit distinct ids (size <= people).
func stride(people, size int) int {
	s := max(people/size, 1)
	for gcd(s, people) != 1 {
		s++
	}
	return s
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// pgCentre and nearbySQL mirror store/query_nearby.go (centre,
// nearbyTemplate and orderByIndex, with no filter but p.loc IS NOT NULL): k
// people by KNN, then everyone within their farthest spheroid distance
// (+1% + 1 m), sorted by spheroid distance. $1, $2, $3 become :lon, :lat,
// :k. TestNearbySQLMirrorsStore fails when the two drift apart.
const (
	pgCentre  = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography"
	nearbySQL = `WITH knn AS (SELECT ST_Distance(p.loc, ` + pgCentre + `) AS d FROM person p WHERE p.loc IS NOT NULL ORDER BY p.loc <-> ` + pgCentre + ` LIMIT :k) ` +
		`SELECT person_feature(n.p)::text, round(n.d::numeric, 2)::float8 FROM (SELECT p, ST_Distance(p.loc, ` + pgCentre + `) AS d FROM person p ` +
		`WHERE p.loc IS NOT NULL AND ST_DWithin(p.loc, ` + pgCentre + `, (SELECT max(d) FROM knn) * 1.01 + 1, false) ORDER BY d, p.id LIMIT :k) n ORDER BY n.d, (n.p).id;`
)

// nearbyScript asks for the 10 nearest to a random point of the city; k is a
// parameter, as the server's LIMIT $3 is.
func nearbyScript(c city) string { return "\\set k 10\n" + pointVars(c) + nearbySQL + "\n" }

// mergePgbench combines slices of equal length: their mean rate and the
// failures of all.
func mergePgbench(parts []pgbenchResult) pgbenchResult {
	var m pgbenchResult
	for _, p := range parts {
		m.TPS += p.TPS / float64(len(parts))
		m.Failed += p.Failed
	}
	return m
}

// pgbenchResult is what one pgbench run reports.
type pgbenchResult struct {
	TPS    float64 // after the warm-up
	Failed int64
}

// runPgbench runs script at clients for warm and then dur, and returns the
// rate of the seconds after warm: like the HTTP load's warm-up, this keeps
// the new backends' first transactions and the full-page writes that
// follow a CHECKPOINT out of the figure.
func (b *bench) runPgbench(ctx context.Context, name, script string, clients int, warm, dur time.Duration) (pgbenchResult, error) {
	path := filepath.Join(b.dir, name+".pgbench")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return pgbenchResult{}, err
	}
	args := []string{"-n", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(2, clients)),
		"-T", strconv.Itoa(wholeSeconds(warm + dur)), "-P", "1", "-f", path, "-M", "prepared", b.dsn}
	cmd := exec.CommandContext(ctx, b.pgbench, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return pgbenchResult{}, ctx.Err()
	}
	res, perr := parsePgbench(string(out), warm)
	if err != nil || perr != nil {
		return res, fmt.Errorf("pgbench %s: %w:\n%s", name, errors.Join(err, perr), out)
	}
	return res, nil
}

func wholeSeconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

var (
	tpsRe      = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)
	progressRe = regexp.MustCompile(`(?m)^progress: ([0-9.]+) s, ([0-9.]+) tps`)
	failedRe   = regexp.MustCompile(`(?m)^number of failed transactions: (\d+)`)
)

// parsePgbench reads the mean rate of the per-second progress reports that
// end after warm (the summary's rate when there are none) and the failures.
func parsePgbench(out string, warm time.Duration) (pgbenchResult, error) {
	var r pgbenchResult
	m := tpsRe.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("no tps line in pgbench output")
	}
	r.TPS, _ = strconv.ParseFloat(m[1], 64)
	var sum float64
	n := 0
	for _, p := range progressRe.FindAllStringSubmatch(out, -1) {
		at, _ := strconv.ParseFloat(p[1], 64)
		tps, _ := strconv.ParseFloat(p[2], 64)
		if at > warm.Seconds() {
			sum += tps
			n++
		}
	}
	if n > 0 {
		r.TPS = sum / float64(n)
	}
	if m := failedRe.FindStringSubmatch(out); m != nil {
		r.Failed, _ = strconv.ParseInt(m[1], 10, 64)
	}
	return r, nil
}

// pgbenchCommand is how the runs invoke pgbench, for the report.
func pgbenchCommand(warm, dur time.Duration) string {
	return fmt.Sprintf("pgbench -n -c <clients> -j <min(2, clients)> -T %d -P 1 -f <script> -M prepared <dsn>", wholeSeconds(warm+dur))
}
