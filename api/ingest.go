package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"time"

	"whereabouts/geo"
	"whereabouts/store"
)

// admit is the one gate every write path goes through, whatever the wire
// format: the position must be valid, and the server's policy decides
// whether a suspicious fix is refused or kept without moving the marker.
// Its refusals are counted here, and what write stores is counted there.
func (s *Server) admit(personID int64, p geo.Position, now time.Time) (store.Update, error) {
	up, err := s.check(personID, p, now)
	if err != nil {
		s.countRejected(err, 1)
	}
	return up, err
}

// check is admit without the counting.
func (s *Server) check(personID int64, p geo.Position, now time.Time) (store.Update, error) {
	if err := p.Validate(); err != nil {
		return store.Update{}, err
	}
	flag, err := s.cfg.Policy.Check(p, now)
	if err != nil {
		return store.Update{}, err
	}
	return store.Update{PersonID: personID, Position: p, Flag: flag}, nil
}

// device resolves a device token, for the API's auth and for the ingest
// adapters, which take credentials where each app can send them (query,
// form, Basic auth).
func (s *Server) device(ctx context.Context, token string) (store.Device, error) {
	if token == "" {
		return store.Device{}, errUnauthorized
	}
	return s.deviceByDigest(ctx, sha256.Sum256([]byte(token)))
}

func (s *Server) deviceByDigest(ctx context.Context, digest [sha256.Size]byte) (store.Device, error) {
	d, err := s.devices.DeviceByDigest(ctx, digest)
	if errors.Is(err, store.ErrNotFound) {
		return store.Device{}, errUnauthorized
	}
	return d, err
}

// write stores admitted fixes: a lone fix joins a group commit with other
// requests' fixes, a batch is its own transaction already. Every fix's
// outcome is counted here.
func (s *Server) write(ctx context.Context, ups []store.Update) ([]store.Result, error) {
	results, err := s.commitFixes(ctx, ups)
	if err != nil {
		s.countRejected(err, len(ups))
		return nil, err
	}
	s.countWritten(ups, results)
	return results, nil
}

// commitFixes is write without the counting. Every write path ends here, so
// the batch bound holds whatever shape an app's body had.
func (s *Server) commitFixes(ctx context.Context, ups []store.Update) ([]store.Result, error) {
	if len(ups) > MaxBatch {
		return nil, errorf(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("a request may carry at most %d positions, this one has %d", MaxBatch, len(ups)))
	}
	if len(ups) != 1 {
		return s.store.UpdateLocations(ctx, ups)
	}
	res, err := s.commit.Submit(ctx, ups[0])
	if err != nil {
		return nil, err
	}
	return []store.Result{res}, nil
}
