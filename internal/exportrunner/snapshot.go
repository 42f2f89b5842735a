package exportrunner

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/snapshotstore"
	"github.com/snapexport/snapexport/internal/tracing"
)

// SnapshotJobs is the taking of snapshots as a runner lives it; the rules
// are the service's (service.Service implements it).
type SnapshotJobs interface {
	// RunSnapshot takes a queued or interrupted snapshot as c's run,
	// holding its lease meanwhile; a snapshot that is gone or ended is
	// left alone. snapexport.ErrSnapshotLeaseHeld means another run holds
	// the lease; any other error that the run may be tried again.
	RunSnapshot(ctx context.Context, c snapexport.SnapshotClaim) error
	// FailSnapshot ends, as c's run, a snapshot that cannot be taken.
	FailSnapshot(ctx context.Context, c snapexport.SnapshotClaim, why string) error
	// LapsedSnapshots lists up to limit snapshots being taken whose run
	// stopped renewing its lease (its server died).
	LapsedSnapshots(ctx context.Context, limit int) ([]*snapexport.Snapshot, error)
}

// SnapshotArgs is the River job of one snapshot being taken.
type SnapshotArgs struct {
	ProjectID  string `json:"projectId"`
	SnapshotID string `json:"snapshotId"`
}

// Kind names the job kind in River's tables.
func (SnapshotArgs) Kind() string { return "snapexport_snapshot" }

// EnqueueSnapshot asks for a snapshot to be taken.
func (q *Queue) EnqueueSnapshot(ctx context.Context, projectID, snapshotID string) error {
	_, err := q.client.Insert(ctx, SnapshotArgs{ProjectID: projectID, SnapshotID: snapshotID}, nil)
	return err
}

type snapshotWorker struct {
	river.WorkerDefaults[SnapshotArgs]
	r *Runner
}

// Work takes the snapshot. Taking it again after an interruption is safe:
// the service keeps what a run wrote and completes the snapshot once.
func (w *snapshotWorker) Work(ctx context.Context, job *river.Job[SnapshotArgs]) error {
	r := w.r
	runCtx, span := tracing.Provider(r.cfg.Tracing).Tracer("github.com/snapexport/snapexport/internal/exportrunner").Start(ctx, "snapshot job",
		trace.WithAttributes(attribute.String("snapexport.group_id", job.Args.ProjectID), attribute.String("snapexport.snapshot_id", job.Args.SnapshotID),
			attribute.Int("snapexport.attempt", job.Attempt)))
	// The lease holder is this run, as for exports: a requeue beside the
	// run, or two attempts, may reach the same server.
	c := snapexport.SnapshotClaim{ProjectID: job.Args.ProjectID, SnapshotID: job.Args.SnapshotID, Lease: r.cfg.Lease,
		Holder: r.id + "/" + strconv.FormatInt(job.ID, 10) + "/" + strconv.Itoa(job.Attempt)}
	err := r.cfg.SnapshotJobs.RunSnapshot(runCtx, c)
	if err != nil {
		span.SetStatus(codes.Error, "snapshot run failed")
	}
	span.End()
	log := r.cfg.Logger.With("group", job.Args.ProjectID, "snapshot", job.Args.SnapshotID, "attempt", job.Attempt)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, snapexport.ErrSnapshotLeaseHeld):
		// Another run is taking it: this one looks again once that run
		// may have ended, or died and let its lease lapse.
		return river.JobSnooze(r.cfg.Lease / 3)
	case ctx.Err() != nil:
		log.Info("snapshot interrupted by shutdown")
		return err
	case errors.Is(err, snapshotstore.ErrCorrupt), job.Attempt >= job.MaxAttempts:
		log.Warn("snapshot failed", "error", err)
		why := reasonMessage(err)
		if job.Attempt > 1 {
			why = fmt.Sprintf("gave up after %d attempts: %s", job.Attempt, why)
		}
		err := r.cfg.SnapshotJobs.FailSnapshot(context.WithoutCancel(ctx), c, why)
		if errors.Is(err, snapexport.ErrSnapshotLeaseHeld) {
			return river.JobSnooze(r.cfg.Lease / 3)
		}
		return err
	}
	log.Warn("snapshot attempt failed; retrying", "maxAttempts", job.MaxAttempts, "error", err)
	return err
}
