// Package notify carries person changes from PostgreSQL to subscribers: the
// Listener LISTENs and resyncs, the Hub owns subscribers and their filters,
// and the transports (WebSocket) write the hub's messages to clients.
package notify

import (
	"context"

	"whereabouts/geo"
)

// Channel is the PostgreSQL NOTIFY channel the person trigger writes to.
const Channel = "person_updated"

// Source is what notify needs from the database. The store satisfies it;
// notify declares it so that it never imports the store.
type Source interface {
	// Snapshot returns the Feature (raw GeoJSON bytes, as the trigger
	// builds them) of every person with a position that matches f.
	Snapshot(ctx context.Context, f geo.Filter) ([][]byte, error)
	// ChangesSince returns the Feature of every person changed by a
	// transaction at or after cursor, tombstone Features (null geometry,
	// properties.deleted = true) for people deleted since, and the horizon
	// to pass next time. The cursor is a transaction horizon (an xid8):
	// every change by a transaction below it is committed and visible.
	// Cursor 0 means "everything".
	ChangesSince(ctx context.Context, cursor uint64) ([][]byte, uint64, error)
}
