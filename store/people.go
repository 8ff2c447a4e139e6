package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// NewPerson is a person just created, with the only copy of its device token.
type NewPerson struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	DeviceID *string `json:"device_id"`
	Token    string  `json:"token"`
}

// HashToken is how tokens are kept at rest. Tokens are 256-bit random
// strings, so a single SHA-256 is enough and keeps auth off the slow path.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreatePerson adds a person without a position and returns its device token.
// deviceID "" means none.
func (s *Store) CreatePerson(ctx context.Context, name, deviceID string) (NewPerson, error) {
	raw := make([]byte, 32)
	rand.Read(raw)
	p := NewPerson{Name: name, Token: base64.RawURLEncoding.EncodeToString(raw)}
	if deviceID != "" {
		p.DeviceID = &deviceID
	}
	err := s.pool.QueryRow(ctx,
		"INSERT INTO person (name, device_id, token_hash) VALUES ($1, $2, $3) RETURNING id",
		name, p.DeviceID, HashToken(p.Token)).Scan(&p.ID)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return NewPerson{}, fmt.Errorf("store: create person: device_id %q: %w", deviceID, ErrConflict)
	}
	if err != nil {
		return NewPerson{}, fmt.Errorf("store: create person: %w", err)
	}
	return p, nil
}

// Person returns one person's Feature (null geometry before the first fix).
func (s *Store) Person(ctx context.Context, id int64) ([]byte, error) {
	var f []byte
	err := s.pool.QueryRow(ctx, "SELECT person_feature(p)::text FROM person p WHERE id = $1", id).Scan(&f)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: person %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: person %d: %w", id, err)
	}
	return f, nil
}

// DeletePerson removes a person and its history in one transaction;
// streams get a remove.
func (s *Store) DeletePerson(ctx context.Context, id int64) error {
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM person WHERE id = $1", id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		// Writers lock the person first, so none can add history now.
		_, err = tx.Exec(ctx, "DELETE FROM location_history WHERE person_id = $1", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete person %d: %w", id, err)
	}
	return nil
}

// Device is the person a device token belongs to.
type Device struct {
	PersonID int64
	DeviceID string // "" when the person has none
}

// DeviceByDigest finds whose device token this is, by the token's SHA-256
// (the caller has it already: auth compares it with the admin token's), so
// timing reveals nothing about the token.
func (s *Store) DeviceByDigest(ctx context.Context, digest [sha256.Size]byte) (Device, error) {
	var d Device
	var deviceID *string
	err := s.pool.QueryRow(ctx, "SELECT person_id, device_id FROM person_key WHERE token_hash = $1", digest[:]).Scan(&d.PersonID, &deviceID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Device{}, fmt.Errorf("store: device token: %w", ErrNotFound)
	}
	if err != nil {
		return Device{}, fmt.Errorf("store: device token: %w", err)
	}
	if deviceID != nil {
		d.DeviceID = *deviceID
	}
	return d, nil
}

// Heartbeat records that a device was heard from without a fix.
func (s *Store) Heartbeat(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, "UPDATE person SET seen_at = now() WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("store: heartbeat %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: heartbeat %d: %w", id, ErrNotFound)
	}
	return nil
}
