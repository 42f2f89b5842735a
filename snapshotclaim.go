package snapexport

import (
	"errors"
	"time"
)

// SnapshotClaim is one run's hold on taking a snapshot: only the holder of
// the snapshot's lease reads its data into the snapshot store, completes it
// or fails it, so that two runs of one snapshot (one queued again when a
// server starts beside the one taking it, or the run of a server that died
// beside the one taking over) never write the same data at once.
type SnapshotClaim struct {
	ProjectID, SnapshotID string
	// Holder names the run (a runner, and its attempt): two attempts at
	// one snapshot, even on one server, are different holders.
	Holder string
	// Lease is how long the hold lasts without being renewed (the
	// service's default when zero).
	Lease time.Duration
}

// ErrSnapshotLeaseHeld means another run holds the snapshot's lease.
var ErrSnapshotLeaseHeld = errors.New("another run is taking the snapshot")
