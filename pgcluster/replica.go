package pgcluster

import (
	"context"
	"fmt"
	"os"
	"strconv"
)

// Replica makes a streaming replica of the running cluster in dir with
// pg_basebackup, ready to Start on a port of its own. Reads may go to it;
// NOTIFY is not replicated, so writes and LISTEN stay on the primary.
func (c *Cluster) Replica(ctx context.Context, dir string) (*Cluster, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pgcluster: replica dir: %w", err)
	}
	if err := c.own(dir); err != nil {
		return nil, err
	}
	err := c.exec(ctx, "pg_basebackup", "-D", dir, "-h", "127.0.0.1", "-p", strconv.Itoa(c.port),
		"-U", "postgres", "-R", "-X", "stream", "--no-sync", "--checkpoint=fast")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: replica: %w", err)
	}
	// A hot standby needs settings such as max_connections at least as high
	// as the primary's.
	return &Cluster{cfg: Config{Dir: dir, Password: c.cfg.Password, Options: c.cfg.Options}, bin: c.bin, runAs: c.runAs}, nil
}
