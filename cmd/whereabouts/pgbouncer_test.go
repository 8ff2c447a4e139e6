package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// pgBouncer is a real PgBouncer started by a test, in front of the test
// cluster.
type pgBouncer struct {
	port int
	dir  string
}

// startPgBouncer runs /usr/sbin/pgbouncer with its own ini, auth file, log
// and socket directory, listening on a free loopback port and forwarding
// every database name to the PostgreSQL server on pgPort. settings are extra
// [pgbouncer] lines ("pool_mode = transaction"). It is stopped when the test
// ends.
func startPgBouncer(t *testing.T, pgPort int, settings ...string) *pgBouncer {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/pgbouncer")
	}
	if err != nil {
		t.Fatal("pgbouncer not found: run `make test` (it installs pgbouncer) or apt-get install pgbouncer")
	}
	// Not t.TempDir: its parents are private to root, and pgbouncer refuses
	// to run as root, so it runs as postgres and must reach its files.
	dir, err := os.MkdirTemp("", "whpgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// The test cluster trusts loopback connections, so PgBouncer only needs
	// to know the user; a deployment would use auth_type = scram-sha-256.
	ini := fmt.Sprintf(`[databases]
* = host=127.0.0.1 port=%d

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir = %s
pidfile = %s
logfile = %s
auth_type = trust
auth_file = %s
admin_users = postgres
%s
`, pgPort, port, dir, filepath.Join(dir, "pgbouncer.pid"), filepath.Join(dir, "pgbouncer.log"),
		filepath.Join(dir, "userlist.txt"), strings.Join(settings, "\n"))
	files := map[string]string{"pgbouncer.ini": ini, "userlist.txt": `"postgres" ""` + "\n"}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	if os.Geteuid() == 0 {
		if err := runAsPostgres(cmd, dir, filepath.Join(dir, "pgbouncer.ini"), filepath.Join(dir, "userlist.txt")); err != nil {
			t.Fatal(err)
		}
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) // immediate shutdown: clients are gone by now
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	p := &pgBouncer{port: port, dir: dir}
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := p.admin()
		if err == nil {
			conn.Close(context.Background())
			return p
		}
		select {
		case werr := <-exited:
			t.Fatalf("pgbouncer exited: %v\n%s%s", werr, out, p.log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer never accepted connections: %v\n%s%s", err, out, p.log())
		}
	}
}

// runAsPostgres makes cmd run as the postgres system user (as pgcluster
// runs PostgreSQL when we are root) and hands it the files it reads.
func runAsPostgres(cmd *exec.Cmd, paths ...string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("pgbouncer refuses root and there is no postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range paths {
		if err := os.Chown(p, uid, gid); err != nil {
			return fmt.Errorf("hand %s to postgres: %w", p, err)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	return nil
}

// DSN is a connection URL for database db through PgBouncer; query is
// appended as is ("default_query_exec_mode=exec").
func (p *pgBouncer) DSN(db, query string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&%s", p.port, db, query)
}

// admin connects to PgBouncer's admin console, which speaks only the simple
// query protocol: hence pgconn rather than pgx.
func (p *pgBouncer) admin() (*pgconn.PgConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return pgconn.Connect(ctx, p.DSN("pgbouncer", "connect_timeout=5"))
}

// command runs an admin console command (PAUSE, RESUME, SHOW ...) and
// returns its rows as column name → text value.
func (p *pgBouncer) command(sql string) ([]map[string]string, error) {
	conn, err := p.admin()
	if err != nil {
		return nil, fmt.Errorf("pgbouncer admin console: %w", err)
	}
	defer conn.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	results, err := conn.Exec(ctx, sql).ReadAll()
	if err == nil && len(results) != 1 {
		err = errors.New("not one result")
	}
	if err != nil {
		return nil, fmt.Errorf("pgbouncer %s: %w", sql, err)
	}
	var rows []map[string]string
	for _, r := range results[0].Rows {
		row := map[string]string{}
		for i, f := range results[0].FieldDescriptions {
			row[f.Name] = string(r[i])
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// show is SHOW what on the admin console, failing the test on error.
func (p *pgBouncer) show(t *testing.T, what string) []map[string]string {
	t.Helper()
	rows, err := p.command("SHOW " + what)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func (p *pgBouncer) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "pgbouncer.log"))
	return string(b)
}
