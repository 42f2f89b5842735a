package exportrunner

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/snapexport/snapexport/internal/snapshotstore"
	"github.com/snapexport/snapexport/internal/tracing"
)

// SnapshotJobs is the taking of snapshots as a runner lives it; the rules
// are the service's (service.Service implements it).
type SnapshotJobs interface {
	// RunSnapshot takes a queued or interrupted snapshot; a snapshot that
	// is gone or ended is left alone. An error means it may be tried
	// again.
	RunSnapshot(ctx context.Context, projectID, snapshotID string) error
	// FailSnapshot ends a snapshot that cannot be taken.
	FailSnapshot(ctx context.Context, projectID, snapshotID, why string) error
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
	err := r.cfg.SnapshotJobs.RunSnapshot(runCtx, job.Args.ProjectID, job.Args.SnapshotID)
	if err != nil {
		span.SetStatus(codes.Error, "snapshot run failed")
	}
	span.End()
	log := r.cfg.Logger.With("group", job.Args.ProjectID, "snapshot", job.Args.SnapshotID, "attempt", job.Attempt)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		log.Info("snapshot interrupted by shutdown")
		return err
	case errors.Is(err, snapshotstore.ErrCorrupt), job.Attempt >= job.MaxAttempts:
		log.Warn("snapshot failed", "error", err)
		why := reasonMessage(err)
		if job.Attempt > 1 {
			why = fmt.Sprintf("gave up after %d attempts: %s", job.Attempt, why)
		}
		return r.cfg.SnapshotJobs.FailSnapshot(context.WithoutCancel(ctx), job.Args.ProjectID, job.Args.SnapshotID, why)
	}
	log.Warn("snapshot attempt failed; retrying", "maxAttempts", job.MaxAttempts, "error", err)
	return err
}
