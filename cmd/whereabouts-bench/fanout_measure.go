package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"whereabouts/geo"
)

// peopleNow reads every person's version and position: the writer walks
// people on from there, and the versions anchor its count.
func (b *bench) peopleNow(ctx context.Context) ([]personAt, error) {
	rows, err := b.db.Query(ctx, `SELECT id, version, ST_Y(loc::geometry), ST_X(loc::geometry)
FROM person WHERE loc IS NOT NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read people: %w", err)
	}
	defer rows.Close()
	var out []personAt
	for rows.Next() {
		var id, v int64
		var p geo.Point
		if err := rows.Scan(&id, &v, &p.Lat, &p.Lon); err != nil {
			return nil, fmt.Errorf("read people: %w", err)
		}
		if id != int64(len(out)+1) {
			return nil, fmt.Errorf("read people: ids are not 1..n (found %d at %d)", id, len(out)+1)
		}
		out = append(out, personAt{id: int32(id), version: int32(v), at: p})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read people: %w", err)
	}
	return out, nil
}

// checkVersions counts people whose version in the database is not the one
// the writer counted: each would make its latency matches and loss figures
// wrong.
func (b *bench) checkVersions(ctx context.Context, w *fanoutWriter) (int, error) {
	rows, err := b.db.Query(ctx, "SELECT id, version FROM person WHERE id <= $1", w.people)
	if err != nil {
		return 0, fmt.Errorf("read versions: %w", err)
	}
	defer rows.Close()
	bad := 0
	for rows.Next() {
		var id, v int64
		if err := rows.Scan(&id, &v); err != nil {
			return 0, fmt.Errorf("read versions: %w", err)
		}
		if v != int64(w.ver[id]) {
			bad++
		}
	}
	return bad, rows.Err()
}

type cpuUse struct {
	server, bench float64 // cores, averaged over the window
	machine       float64 // cores busy, every process: PostgreSQL's share is what the other two leave
	load          string  // load average at the window's end
}

// measureCPU sleeps through the window and reads the server's and the
// bench's CPU time at both ends.
func (b *bench) measureCPU(ctx context.Context, epoch time.Time, win span) (cpuUse, error) {
	sleepUntil := func(t int64) error {
		select {
		case <-time.After(time.Duration(t) - time.Since(epoch)):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := sleepUntil(win.from); err != nil {
		return cpuUse{}, err
	}
	s0, err1 := procCPU(b.srv.cmd.Process.Pid)
	b0 := selfCPU()
	m0, err3 := machineBusy()
	t0 := time.Now()
	if err := sleepUntil(win.to); err != nil {
		return cpuUse{}, err
	}
	s1, err2 := procCPU(b.srv.cmd.Process.Pid)
	b1 := selfCPU()
	m1, err4 := machineBusy()
	secs := time.Since(t0).Seconds()
	u := cpuUse{bench: (b1 - b0).Seconds() / secs, load: loadAvg(), machine: (m1 - m0).Seconds() / secs}
	if err := errors.Join(err3, err4); err != nil {
		b.notes = append(b.notes, "fanout: machine CPU not read: "+err.Error())
		u.machine = -1
	}
	if err := errors.Join(err1, err2); err != nil {
		b.notes = append(b.notes, "fanout: server CPU not read: "+err.Error())
		u.server = -1
	} else {
		u.server = (s1 - s0).Seconds() / secs
	}
	return u, nil
}

// clockTicks is USER_HZ, 100 on every Linux Go supports.
const clockTicks = 100

// procCPU is a process's user + system time from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a stat line; the
// command name before them is in parentheses and may hold spaces.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("stat: no command name")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, errors.New("stat: too few fields")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("stat: %w", err)
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// machineBusy is the CPU time every CPU has spent on anything but idling
// and waiting for I/O since boot, from /proc/stat.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseMachineBusy(string(b))
}

// parseMachineBusy reads the first line, `cpu user nice system idle iowait
// irq softirq steal ...` in ticks, and adds up all but idle and iowait
// (guest time is counted in user already).
func parseMachineBusy(stat string) (time.Duration, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for i, v := range f[1:9] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
