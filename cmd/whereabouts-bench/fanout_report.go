package main

import (
	"fmt"
	"io"
	"time"
)

var fanoutHeader = []string{"fan-out", "transport", "subscribers", "updates/s posted (asked)",
	"delivered msg/s (expected)", "latency p50 / p95 / p99 / max", "missing versions / lost", "server CPU, peak RSS", "target", "met"}

func (r fanoutResult) cells() []string {
	sc := r.Scenario
	subs := fmt.Sprintf("%s (%s)", grouped0(int64(sc.Subs)), sc.filter())
	if r.NotRun != "" {
		return []string{sc.Name, r.Transport, subs, "–", r.NotRun, "–", "–", "–", or(sc.target(), "–"), "–"}
	}
	if r.Connected != sc.Subs {
		subs = fmt.Sprintf("%s of %s (%s)", grouped0(int64(r.Connected)), grouped0(int64(sc.Subs)), sc.filter())
	}
	lat := fmt.Sprintf("%s / %s / %s / %s ms", ms(percentile(r.Lat, 50)), ms(percentile(r.Lat, 95)),
		ms(percentile(r.Lat, 99)), ms(percentile(r.Lat, 100)))
	loss := fmt.Sprintf("%s / %s", grouped0(r.Missing), grouped0(r.Lost))
	if r.Closed > 0 {
		loss += fmt.Sprintf(" (%d streams closed)", r.Closed)
	}
	cpu := "CPU not read"
	if r.ServerCPU >= 0 {
		cpu = fmt.Sprintf("%.2f cores", r.ServerCPU)
	}
	met := "–"
	if sc.P99 > 0 {
		met = "no"
		if r.met() {
			met = "yes"
		}
	}
	return []string{sc.Name, r.Transport, subs,
		fmt.Sprintf("%s (%s)", grouped(r.PostedRate), grouped(float64(sc.Rate))),
		fmt.Sprintf("%s (%s)", grouped(r.DeliveredRate), grouped(r.ExpectedRate)),
		lat, loss, fmt.Sprintf("%s, %.0f MiB", cpu, r.PeakRSS/(1<<20)), or(sc.target(), "–"), met}
}

// grouped0 is grouped for counts: no decimals below 100.
func grouped0(n int64) string {
	if n < 100 {
		return fmt.Sprint(n)
	}
	return grouped(float64(n))
}

// writeFanout prints the fan-out table and how it was measured.
func (rep report) writeFanout(w io.Writer) {
	if len(rep.Fanout) == 0 {
		return
	}
	var rows [][]string
	for _, r := range rep.Fanout {
		rows = append(rows, r.cells())
	}
	o := rep.Opts
	fmt.Fprintf(w, "\n### Fan-out\n\n%s\n", markdownTable(fanoutHeader, rows))
	fmt.Fprintf(w, "- How: per row a fresh server; N subscribers on loopback ("+fmt.Sprint(dialers)+" dialers; each reads its snapshot first) to `/api/v1/stream` (ws) or `/api/v1/events` (sse) with `?access_token=` (admin) and, for bbox rows, `bbox=` a random box of a tenth of the city's area. "+
		"Then a writer in the bench posts the asked rate as `POST /api/v1/locations` batches, one every %s (%d in flight at most, keep-alive), each person walking up to %.0f m per move, round-robin over the %s seeded people; %s warm-up, then a %s window. "+
		"Subscribers read frames on one goroutine per connection with a plain TCP client and a byte scan for id and version (no JSON decoding).\n",
		fanoutTick, fanoutSenders, walkStep, grouped(float64(o.People)), warmupFor(o.FanoutDuration), o.FanoutDuration)
	fmt.Fprintf(w, "- Latency: from the moment the writer has the batch's answer to the arrival of the frame with that person and version at each subscriber (the read that completed it), for moves answered inside the window; a frame that beats the answer counts as 0. Delivered msg/s: update frames arriving inside the window, all subscribers; expected: the moves answered inside the window that concern each subscriber (all of them, or those from or to a point in its bbox).\n")
	fmt.Fprintf(w, "- Missing versions: over the whole phase, per subscriber, the moves that concern it minus the new versions it received (coalesced by a lagging queue, or never sent). Lost: (subscriber, person) pairs whose newest version held at the end, after the stream drained, is below the last version that concerned it. The writer's versions are counted (one per accepted position) and checked against the database after each phase.\n")
	for _, r := range rep.Fanout {
		if r.NotRun != "" {
			continue
		}
		fmt.Fprintf(w, "- %s over %s: %s streams open in %s (snapshot %s bytes), %d failed; %.1f updates per socket read; bench CPU %.2f cores%s; load average %s at the window's end; %s frames (%.0f%%) beat the writer's answer; %s stale or repeated, %s versions skipped, %s other messages",
			r.Scenario.Name, r.Transport, grouped0(int64(r.Connected)), r.ConnectTime.Round(time.Millisecond), grouped(float64(r.SnapshotBytes)),
			r.Failed, float64(r.Delivered)/float64(max(r.Reads, 1)), r.BenchCPU, machineText(r), r.LoadAvg, grouped0(int64(r.Early)), 100*float64(r.Early)/float64(max(r.Delivered, 1)), grouped0(r.Stale), grouped0(r.Skipped), grouped0(r.Other))
		for _, p := range []struct {
			bad  bool
			text string
		}{
			{r.FirstErr != "", "first failure: " + r.FirstErr},
			{r.CloseErr != "", "first stream ended by the server: " + r.CloseErr},
			{r.WriterErrors > 0, fmt.Sprintf("%d writer errors, first: %s", r.WriterErrors, r.WriterErr)},
			{r.VersionErrs > 0, fmt.Sprintf("%d people's database versions differ from the writer's count", r.VersionErrs)},
			{r.Unmatched > 0, fmt.Sprintf("%d frames matched no move", r.Unmatched)},
			{r.Bad > 0, fmt.Sprintf("%d update frames unreadable", r.Bad)},
			{r.Drained != "", "drain: " + r.Drained},
		} {
			if p.bad {
				fmt.Fprintf(w, "; %s", p.text)
			}
		}
		fmt.Fprintln(w, ".")
	}
}

// machineText puts the server and the bench beside everything else that ran
// in the window: PostgreSQL above all, and whatever else the host had.
func machineText(r fanoutResult) string {
	if r.MachineCPU < 0 || r.ServerCPU < 0 {
		return ""
	}
	return fmt.Sprintf(", machine %.2f cores busy (PostgreSQL and the rest %.2f)", r.MachineCPU, max(r.MachineCPU-r.ServerCPU-r.BenchCPU, 0))
}
