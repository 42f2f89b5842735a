package snapexport

import (
	"errors"
	"time"
)

// ExportClaim is one run's hold on an export job: only the holder of the
// job's lease records its progress and ends it, so that a job whose runner
// died is resumed by exactly one other.
type ExportClaim struct {
	ProjectID, JobID string
	// Holder names the run (a runner, and its attempt at the job): two
	// attempts at one job, even on one server, are different holders.
	Holder string
	// Lease is how long the hold lasts without being renewed.
	Lease time.Duration
}

// LiveProgress is how many documents and bytes of a job a run has handed
// to the bucket so far, the collection being written included, for
// watchers; finished collections are recorded with the job's progress.
type LiveProgress struct {
	Documents, Bytes int64
}

// Failures of a run's writes to its export job.
var (
	// ErrLeaseHeld means another run holds the job's lease.
	ErrLeaseHeld = errors.New("another runner holds the export job")
	// ErrExportEnded means the job ended while the run worked on it.
	ErrExportEnded = errors.New("export job already ended")
	// ErrExportCancelled means the job was asked to stop.
	ErrExportCancelled = errors.New("export job cancelled")
)
