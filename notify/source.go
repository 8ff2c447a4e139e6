// Package notify carries person changes from PostgreSQL to subscribers: the
// Listener LISTENs and resyncs, the Hub owns subscribers and their filters,
// and the transports (WebSocket, Server-Sent Events, long-poll) write the
// hub's messages to clients.
package notify

import (
	"context"

	"whereabouts/geo"
)

// Channel is the PostgreSQL NOTIFY channel the person trigger writes to.
const Channel = "person_updated"

// HorizonChannel carries the listeners' horizon markers (see Listener).
const HorizonChannel = "person_horizon"

// Source is what notify needs from the database. The store satisfies it;
// notify declares it so that it never imports the store.
//
// Cursors are transaction horizons (xid8 values): every change by a
// transaction below a cursor is committed and was visible to the read that
// produced it.
type Source interface {
	// Snapshot returns the Feature (raw GeoJSON bytes, as the trigger
	// builds them) of every person with a position that matches f, and the
	// cursor of the read.
	Snapshot(ctx context.Context, f geo.Filter) ([][]byte, uint64, error)
	// ChangesSince returns the Feature of every person changed by a
	// transaction at or after cursor, tombstone Features (null geometry,
	// properties.deleted = true) for people deleted since, and the cursor
	// to pass next time. Cursor 0 means "everything kept". kept is false,
	// with no features, when the database no longer holds every change
	// since cursor (its tombstones were pruned, or the cursor comes from
	// another database): the caller needs a snapshot instead.
	ChangesSince(ctx context.Context, cursor uint64) (features [][]byte, next uint64, kept bool, err error)
}
