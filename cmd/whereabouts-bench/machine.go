package main

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// machine is what the numbers were measured on.
type machine struct {
	NProc     int
	CPU       string
	MemBytes  int64
	Kernel    string
	GoVersion string // the bench's
	ServerGo  string // the server binary's
	Postgres  string
	PostGIS   string
	Pgbench   string
	LoadAvg   string // 1, 5, 15 minutes, before the run: other work on the machine
}

func describeMachine(ctx context.Context, db *pgx.Conn, pgbench, serverBin string) (machine, error) {
	m := machine{NProc: runtime.NumCPU(), GoVersion: runtime.Version(), CPU: "unknown CPU", ServerGo: "unknown Go"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = cpuModel(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemBytes = memTotal(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	if bi, err := buildinfo.ReadFile(serverBin); err == nil {
		m.ServerGo = bi.GoVersion
	}
	if out, err := exec.CommandContext(ctx, pgbench, "--version").Output(); err == nil {
		m.Pgbench = strings.TrimSpace(string(out))
	}
	err := db.QueryRow(ctx, "SELECT current_setting('server_version'), postgis_lib_version()").Scan(&m.Postgres, &m.PostGIS)
	if err != nil {
		return m, fmt.Errorf("read server versions: %w", err)
	}
	return m, nil
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel(cpuinfo string) string {
	for _, line := range strings.Split(cpuinfo, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// memTotal is MemTotal of /proc/meminfo, in bytes.
func memTotal(meminfo string) int64 {
	for _, line := range strings.Split(meminfo, "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
