// Package pgcluster runs a private PostgreSQL cluster from the system's
// server binaries: the embedded default database of `whereabouts serve`, and
// the throwaway clusters of tests and benchmarks.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// Config says where a cluster lives and how it is reached.
type Config struct {
	// Dir is the data directory (PGDATA). It is created on first Start.
	Dir string
	// Password of the postgres superuser over TCP. Empty means trust, which
	// only tests should use.
	Password string
	// Options are extra server settings ("fsync=off").
	Options []string
}

// Cluster is a private PostgreSQL server: loopback only, a free port, and a
// Unix socket in a private directory.
type Cluster struct {
	cfg     Config
	bin     string
	runAs   *user.User // set when we are root: initdb refuses to run as root
	port    int
	sockDir string
}

// New finds the PostgreSQL binaries and prepares (but does not start) a
// cluster. It fails with the command to install PostgreSQL when none is found.
func New(cfg Config) (*Cluster, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("pgcluster: running as root needs the postgres system user to own the cluster; install PostgreSQL from your distribution (apt-get install postgresql) or run as an ordinary user")
		}
		c.runAs = u
	}
	return c, nil
}

// Port is the TCP port the running cluster listens on (127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// DSN is a connection URL for database db on the running cluster.
func (c *Cluster) DSN(db string) string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)), Path: "/" + db}
	if c.cfg.Password != "" {
		u.User = url.UserPassword("postgres", c.cfg.Password)
	} else {
		u.User = url.User("postgres")
	}
	u.RawQuery = "sslmode=disable"
	return u.String()
}

// Start creates the cluster on first use and starts it on a free loopback
// port. Starting again after Stop keeps the same port when it is still free,
// so existing connection strings keep working across a restart.
func (c *Cluster) Start(ctx context.Context) error {
	if err := c.initOnce(ctx); err != nil {
		return err
	}
	if c.port == 0 || !portFree(c.port) {
		p, err := freePort()
		if err != nil {
			return fmt.Errorf("pgcluster: find a free port: %w", err)
		}
		c.port = p
	}
	sock, err := os.MkdirTemp("", "whpg-")
	if err != nil {
		return fmt.Errorf("pgcluster: socket directory: %w", err)
	}
	if err := c.own(sock); err != nil {
		os.RemoveAll(sock)
		return err
	}
	c.sockDir = sock
	opts := []string{"-p", strconv.Itoa(c.port), "-k", sock, "-c", "listen_addresses=127.0.0.1"}
	for _, o := range c.cfg.Options {
		opts = append(opts, "-c", o)
	}
	logFile := filepath.Join(c.cfg.Dir, "server.log")
	if err := c.pgctl(ctx, "-D", c.cfg.Dir, "-l", logFile, "-w", "-t", "60", "-o", strings.Join(opts, " "), "start"); err != nil {
		// pg_ctl may give up waiting on a server that did start: stop it.
		c.Stop(context.WithoutCancel(ctx))
		return fmt.Errorf("pgcluster: start (see %s): %w", logFile, err)
	}
	return nil
}

// Stop shuts the cluster down, ending open sessions (fast mode).
func (c *Cluster) Stop(ctx context.Context) error {
	err := c.pgctl(ctx, "-D", c.cfg.Dir, "-m", "fast", "-w", "-t", "60", "stop")
	if c.sockDir != "" {
		os.RemoveAll(c.sockDir)
		c.sockDir = ""
	}
	if err != nil {
		return fmt.Errorf("pgcluster: stop: %w", err)
	}
	return nil
}

func (c *Cluster) initOnce(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.cfg.Dir, "PG_VERSION")); err == nil {
		return nil
	}
	if err := os.MkdirAll(c.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("pgcluster: create %s: %w", c.cfg.Dir, err)
	}
	if err := c.own(c.cfg.Dir); err != nil {
		return err
	}
	args := []string{"-D", c.cfg.Dir, "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--auth-local=trust"}
	if c.cfg.Password == "" {
		args = append(args, "--auth-host=trust")
	} else {
		pw, err := os.CreateTemp("", "whpw-")
		if err != nil {
			return fmt.Errorf("pgcluster: password file: %w", err)
		}
		defer os.Remove(pw.Name())
		_, werr := pw.WriteString(c.cfg.Password + "\n")
		if cerr := pw.Close(); werr != nil || cerr != nil {
			return fmt.Errorf("pgcluster: password file: %w", errors.Join(werr, cerr))
		}
		if err := c.own(pw.Name()); err != nil {
			return err
		}
		args = append(args, "--auth-host=scram-sha-256", "--pwfile="+pw.Name())
	}
	if err := c.exec(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("pgcluster: initdb %s: %w", c.cfg.Dir, err)
	}
	return nil
}

func (c *Cluster) pgctl(ctx context.Context, args ...string) error {
	return c.exec(ctx, "pg_ctl", args...)
}

// exec runs a server binary, as the postgres user when we are root.
func (c *Cluster) exec(ctx context.Context, name string, args ...string) error {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.runAs != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// own hands a path to the postgres user when we run as root.
func (c *Cluster) own(path string) error {
	if c.runAs == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.runAs.Uid)
	gid, _ := strconv.Atoi(c.runAs.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("pgcluster: hand %s to postgres: %w", path, err)
	}
	return nil
}
