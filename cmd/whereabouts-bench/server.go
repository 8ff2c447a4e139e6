package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildServer compiles ./cmd/whereabouts of the module the bench is run
// from into dir.
func buildServer(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the whereabouts module: run from the repository, or pass -server-bin")
	}
	root := filepath.Dir(gomod)
	bin := filepath.Join(dir, "whereabouts")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/whereabouts")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/whereabouts: %w\n%s", err, out)
	}
	return bin, nil
}

// server is the whereabouts process under test.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
	log  *tailBuffer
}

// addr is the server's host:port.
func (s *server) addr() string { return strings.TrimPrefix(s.url, "http://") }

// serverEnv is a clean environment, with no stray WHEREABOUTS_* (or GO*)
// setting of the caller's; procs, when not 0, is the server's GOMAXPROCS.
func serverEnv(token, dir string, procs int, getenv func(string) string) []string {
	env := []string{"PATH=" + getenv("PATH"), "HOME=" + getenv("HOME"),
		"WHEREABOUTS_ADMIN_TOKEN=" + token, "WHEREABOUTS_DATA_DIR=" + filepath.Join(dir, "server-data")}
	if procs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(procs))
	}
	return env
}

// startServer runs `whereabouts serve` on a kernel-chosen loopback port
// against dsn, reads the address from its "listening on" line and waits for
// /readyz.
func startServer(ctx context.Context, bin, dsn, token, dir string, procs int, getenv func(string) string) (*server, error) {
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-database-url", dsn,
		"-migrate=false", "-tile-url", "none", "-log-level", "warn")
	cmd.Env = serverEnv(token, dir, procs, getenv)
	// Own process group: Ctrl-C reaches us, and we stop the server in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	s := &server{cmd: cmd, done: make(chan struct{}), log: &tailBuffer{max: 40}}
	cmd.Stderr = s.log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if _, url, ok := strings.Cut(line, "listening on "); ok && strings.HasPrefix(url, "http://") {
				select {
				case addr <- strings.TrimSpace(url):
				default:
				}
			}
			s.log.Write([]byte(line + "\n"))
		}
		io.Copy(io.Discard, out)
		s.err = cmd.Wait()
		close(s.done)
	}()
	select {
	case s.url = <-addr:
	case <-s.done:
		return nil, fmt.Errorf("server exited before listening (%v):\n%s", s.err, s.log)
	case <-time.After(time.Minute):
		s.stop()
		return nil, fmt.Errorf("server did not print its address within a minute:\n%s", s.log)
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready within a minute (last: %v):\n%s", err, s.log)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return fmt.Errorf("server exited (%v):\n%s", s.err, s.log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// peakRSS is the server's resident-set high-water mark (VmHWM), in bytes.
func (s *server) peakRSS() (int64, error) {
	if s == nil {
		return 0, errors.New("no server")
	}
	return s.status("VmHWM")
}

// rss is the server's current resident set (VmRSS), in bytes.
func (s *server) rss() (int64, error) {
	if s == nil {
		return 0, errors.New("no server")
	}
	return s.status("VmRSS")
}

func (s *server) status(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(b, field)
}

// parseStatusKB reads a "Field:  123 kB" line of /proc/<pid>/status, in bytes.
func parseStatusKB(status []byte, field string) (int64, error) {
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s %q: %w", field, v, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no %s line", field)
}

// stop sends SIGTERM, waits for the graceful shutdown, and kills the server
// if it does not end within 20 s.
func (s *server) stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		var exit *exec.ExitError
		if errors.As(s.err, &exit) {
			return fmt.Errorf("server exited with %v:\n%s", s.err, s.log)
		}
		return nil
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return errors.New("server ignored SIGTERM for 20 s; killed")
	}
}

// tailBuffer keeps the last max lines written to it, for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part.Write(p)
	for {
		line, err := t.part.ReadString('\n')
		if err != nil {
			t.part.WriteString(line) // incomplete: keep for the next write
			return len(p), nil
		}
		t.lines = append(t.lines, strings.TrimRight(line, "\n"))
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
