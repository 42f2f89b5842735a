package exportrunner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gocloud.dev/gcerrors"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/objectstore"
	"github.com/snapexport/snapexport/internal/snapshotstore"
	"github.com/snapexport/snapexport/internal/tracing"
)

type worker struct {
	river.WorkerDefaults[Args]
	r *Runner
}

// permanent marks an error that running the job again cannot fix.
type permanent struct {
	code string
	err  error
}

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	r := w.r
	// The lease holder is this run, not this server: two River jobs of
	// one export (a requeue beside a rescue), or two attempts of one, may
	// reach the same server.
	c := snapexport.ExportClaim{ProjectID: job.Args.ProjectID, JobID: job.Args.JobID, Lease: r.cfg.Lease,
		Holder: r.id + "/" + strconv.FormatInt(job.ID, 10) + "/" + strconv.Itoa(job.Attempt)}
	exp, err := r.run(ctx, c, job.Attempt)
	log := r.jobLogger(exp, c)
	var p *permanent
	switch {
	case err == nil:
		return nil
	case errors.Is(err, snapexport.ErrExportEnded):
		return nil
	case errors.Is(err, snapexport.ErrLeaseHeld):
		// Soon again: the holder may be a sharded export's other wake-up,
		// done in a moment, or a dead runner whose lease lapses.
		return river.JobSnooze(max(min(r.cfg.Lease/3, 2*time.Second), 100*time.Millisecond))
	case errors.Is(err, snapexport.ErrExportCancelled):
		return r.end(ctx, log, c, snapexport.ExportCancelled, nil)
	case ctx.Err() != nil:
		log.Info("export interrupted by shutdown", "attempt", job.Attempt)
		return err
	case errors.As(err, &p):
		log.Warn("export attempt failed; retrying cannot help", "attempt", job.Attempt, "error", err)
		return r.end(ctx, log, c, snapexport.ExportFailed, reason(p.code, reasonMessage(err)))
	case job.Attempt >= job.MaxAttempts:
		log.Warn("export attempt failed; no attempt left", "attempt", job.Attempt, "error", err)
		return r.end(ctx, log, c, snapexport.ExportFailed, reason(snapexport.ReasonExportFailed,
			fmt.Sprintf("gave up after %d attempts: %s", job.Attempt, reasonMessage(err))))
	}
	log.Warn("export attempt failed; retrying", "attempt", job.Attempt, "maxAttempts", job.MaxAttempts, "error", err)
	return err
}

// jobLogger logs what happens to the job of c, named by job's attributes
// once it has been read.
func (r *Runner) jobLogger(job *snapexport.ExportJob, c snapexport.ExportClaim) *slog.Logger {
	if job == nil {
		return r.cfg.Logger.With("export", c.JobID, "group", c.ProjectID)
	}
	return slog.New(r.cfg.Logger.Handler().WithAttrs(job.LogAttrs()))
}

// end ends the job of c in state; the service logs the end. An end not
// recorded is retried with the River job.
func (r *Runner) end(ctx context.Context, log *slog.Logger, c snapexport.ExportClaim, state snapexport.ExportState, why *snapexport.ExportStateReason) error {
	err := r.cfg.Jobs.EndExportJob(context.WithoutCancel(ctx), c, state, why)
	if err != nil {
		log.Warn("export end not recorded; retrying", "state", state, "error", err)
	}
	return err
}

func reason(code, message string) *snapexport.ExportStateReason {
	return &snapexport.ExportStateReason{ErrorCode: code, Message: message}
}

// reasonMessage is what a client reads of err in stateReason: an Atlas
// error's detail, or words of its own; never err's text, which may name
// a server directory, an internal host or a connection string (the log
// has it).
func reasonMessage(err error) string {
	var e *snapexport.Error
	switch {
	case errors.As(err, &e):
		return e.Detail
	case errors.Is(err, snapshotstore.ErrCorrupt), errors.Is(err, snapshotstore.ErrNotFound):
		return "The snapshot's data is missing or does not match its checksums."
	}
	return "Unexpected error."
}

// bucketFailure turns the failure of a write to t's bucket into the Atlas
// error it means, which tells whether retrying can help; other failures,
// and those of a run that is stopping, pass as they are.
func (r *Runner) bucketFailure(ctx context.Context, t objectstore.Target, action string, err error) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	var we *export.WriteError
	if errors.As(err, &we) {
		return r.cfg.Buckets.Failure(ctx, t, "write "+we.Key, we.Err)
	}
	if action == "" {
		return err
	}
	return r.cfg.Buckets.Failure(ctx, t, action, err)
}

// classify sorts the failures of a run: refusals of the bucket and
// unreadable snapshot data are permanent, the rest may pass.
func classify(err error) error {
	var apiErr *snapexport.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && apiErr.Permanent():
		return &permanent{code: apiErr.Code, err: err}
	case errors.Is(err, snapshotstore.ErrCorrupt), errors.Is(err, snapshotstore.ErrNotFound):
		return &permanent{code: snapexport.ReasonSnapshotDataUnreadable, err: err}
	}
	switch gcerrors.Code(err) {
	case gcerrors.PermissionDenied:
		return &permanent{code: snapexport.ReasonBucketAccessDenied, err: err}
	case gcerrors.NotFound:
		return &permanent{code: snapexport.ReasonBucketNotFound, err: err}
	case gcerrors.InvalidArgument, gcerrors.FailedPrecondition, gcerrors.Unimplemented:
		return &permanent{code: snapexport.ReasonExportFailed, err: err}
	}
	return err
}

// run works on an export job until it ends or fails; it returns the job
// as it read it (nil when it could not), to name it in the log.
func (r *Runner) run(ctx context.Context, c snapexport.ExportClaim, attempt int) (*snapexport.ExportJob, error) {
	job, err := r.cfg.Jobs.LoadExportJob(ctx, c.ProjectID, c.JobID)
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil, nil // removed with its project
	}
	if err != nil {
		return nil, err
	}
	if !job.State.Active() {
		if job.ParentID != "" {
			// The run that ended it may have died before waking the
			// parent.
			return job, r.enqueue(ctx, job.ProjectID, job.ParentID)
		}
		return job, nil
	}
	if len(job.Components) > 0 {
		// Each shard that ends wakes the parent: the lease keeps two
		// wake-ups from concluding it (and writing .complete) at once.
		claimed, err := r.cfg.Jobs.ClaimExportJob(ctx, c)
		if err != nil {
			return job, err
		}
		defer r.cfg.Jobs.ReleaseExportJob(context.WithoutCancel(ctx), c)
		if !claimed.State.Active() {
			return claimed, nil
		}
		return claimed, r.finishSharded(ctx, c, claimed)
	}
	if job.CancelRequested {
		return job, snapexport.ErrExportCancelled
	}
	// Another run may have ended the job before this one got the lease.
	claimed, err := r.cfg.Jobs.ClaimExportJob(ctx, c)
	if err != nil {
		return job, err
	}
	job = claimed
	if !job.State.Active() {
		r.cfg.Jobs.ReleaseExportJob(context.WithoutCancel(ctx), c)
		return job, nil
	}
	log := r.jobLogger(job, c)
	log.Info("export started", "bucket", job.ExportBucketID,
		"fromCollection", job.Progress.ExportedCollections, "attempt", attempt, "runner", r.id)
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go r.keepLease(runCtx, stop, c, log)

	runCtx, span := tracing.Provider(r.cfg.Tracing).Tracer("github.com/snapexport/snapexport/internal/exportrunner").Start(runCtx, "export job",
		trace.WithAttributes(jobAttributes(job)...), trace.WithAttributes(attribute.Int("snapexport.attempt", attempt),
			attribute.Int("snapexport.from_collection", job.Progress.ExportedCollections)))
	r.cfg.Observer.ExportRunning(1)
	err = r.export(runCtx, c, job)
	r.cfg.Observer.ExportRunning(-1)
	if err != nil {
		span.SetStatus(codes.Error, "export run failed")
	}
	span.End()
	if cause := context.Cause(runCtx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	if err != nil {
		r.cfg.Jobs.ReleaseExportJob(context.WithoutCancel(ctx), c)
		return job, classify(err)
	}
	return job, nil
}

// jobAttributes name a job in its spans as LogAttrs does in the log.
func jobAttributes(job *snapexport.ExportJob) []attribute.KeyValue {
	out := []attribute.KeyValue{attribute.String("snapexport.export_id", cmp.Or(job.ParentID, job.ID)),
		attribute.String("snapexport.group_id", job.ProjectID), attribute.String("snapexport.cluster_id", job.ClusterID),
		attribute.String("snapexport.snapshot_id", job.SnapshotID)}
	if job.ParentID != "" {
		out = append(out, attribute.String("snapexport.component_id", job.ID))
	}
	if job.ReplicaSetName != "" {
		out = append(out, attribute.String("snapexport.replica_set", job.ReplicaSetName))
	}
	return out
}

// export writes the job's collections from the first unfinished one, then
// ends the job.
func (r *Runner) export(ctx context.Context, c snapexport.ExportClaim, job *snapexport.ExportJob) error {
	loc := snapshotstore.Location{ProjectID: job.ProjectID, SnapshotID: job.SourceSnapshotID}
	m, err := r.cfg.Snapshots.Manifest(ctx, loc)
	if err != nil {
		return err
	}
	target, err := r.cfg.Jobs.ExportTarget(ctx, job.ProjectID, job.ExportBucketID)
	if err != nil {
		return err
	}
	bucket, err := r.cfg.Buckets.Open(ctx, target)
	if err != nil {
		return err
	}
	defer bucket.Close()
	if err := export.WritePermissionCheck(ctx, bucket); err != nil {
		return r.bucketFailure(ctx, target, "", err)
	}
	// A run cut short may have left a partial object (in a local
	// bucket). The lease makes this runner the only writer of its
	// replica set's objects; the other shards of a sharded export write
	// beside it (metadata.json included), and their partial objects are
	// left to the sharded export's conclusion.
	var keep func(string, time.Time) bool
	if job.ParentID != "" {
		own := job.ReplicaSetName + "."
		keep = func(name string, _ time.Time) bool { return !strings.HasPrefix(name, own) }
	}
	if err := r.cfg.Buckets.RemoveIncomplete(ctx, target, job.Prefix, keep); err != nil {
		return r.bucketFailure(ctx, target, "remove incomplete objects", err)
	}
	cols := export.Collections(m)
	// Counts restart from the finished collections: a collection cut
	// short is counted again as it is written again.
	p := snapexport.ExportProgress{TotalCollections: len(cols), ExportedCollections: job.Progress.ExportedCollections,
		Files: job.Progress.Files}
	for i, col := range cols {
		p.TotalDocuments += m.Namespaces[col].Count
		p.TotalBytes += m.Namespaces[col].Size
		if i < p.ExportedCollections {
			p.Documents += m.Namespaces[col].Count
			p.Bytes += m.Namespaces[col].Size
		}
	}
	if err := r.cfg.Jobs.RecordExportProgress(ctx, c, p); err != nil {
		return err
	}
	src := export.Source{Store: r.cfg.Snapshots, Location: loc, Manifest: m, ReplicaSetName: job.ReplicaSetName}
	opts := export.Options{ChunkBytes: r.cfg.ChunkBytes, Parallel: r.cfg.ParallelCollections, Skip: p.ExportedCollections}
	// progress is told of each batch written, done of each collection
	// finished in order (with every one before it): the totals go on from
	// the finished collections', and each finished collection is recorded
	// so that a resumed run starts after it.
	docs, bytes := p.Documents, p.Bytes
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	_, err = export.Export(ctx, bucket, job.Prefix, src, opts, func(d, b int64) {
		docs, bytes = docs+d, bytes+b
		r.live.Store(job.ID, snapexport.LiveProgress{Documents: docs, Bytes: bytes})
		r.cfg.Observer.ExportWritten(d, b)
		crashAt("documents", docs)
	}, func(res export.Result) {
		r.cfg.Observer.ExportCollectionFinished(len(res.Keys), res.CompressedBytes)
		p.ExportedCollections++
		p.Files += len(res.Keys)
		p.Documents += m.Namespaces[res.Index].Count
		p.Bytes += m.Namespaces[res.Index].Size
		if err := r.cfg.Jobs.RecordExportProgress(ctx, c, p); err != nil {
			stop(err)
			return
		}
		crashAt("collections", int64(p.ExportedCollections))
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil {
		return r.bucketFailure(ctx, target, "", err)
	}
	if job.ParentID != "" {
		return r.cfg.Jobs.EndExportJob(ctx, c, snapexport.ExportSuccessful, nil)
	}
	complete, err := r.cfg.Jobs.CompleteDocument(ctx, job)
	if err != nil {
		return err
	}
	complete.TotalFiles = p.Files
	crashAt("complete", 1)
	if err := export.WriteComplete(ctx, bucket, job.Prefix, complete); err != nil {
		return r.bucketFailure(ctx, target, "", err)
	}
	return r.cfg.Jobs.EndExportJob(ctx, c, snapexport.ExportSuccessful, nil)
}

// keepLease renews the lease until ctx ends; it stops the run when the
// lease is lost or the job is cancelled.
func (r *Runner) keepLease(ctx context.Context, stop context.CancelCauseFunc, c snapexport.ExportClaim, log *slog.Logger) {
	t := time.NewTicker(min(c.Lease/3, time.Second))
	defer t.Stop()
	defer r.live.Delete(c.JobID)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var live *snapexport.LiveProgress
		if v, ok := r.live.Load(c.JobID); ok {
			p := v.(snapexport.LiveProgress)
			live = &p
		}
		cancelled, err := r.cfg.Jobs.RenewExportClaim(ctx, c, live)
		switch {
		case errors.Is(err, snapexport.ErrLeaseHeld):
			log.Warn("export lease lost to another run; this run stops")
			stop(snapexport.ErrLeaseHeld)
			return
		case err != nil && ctx.Err() == nil:
			log.Warn("export lease not renewed", "error", err)
		case err == nil && cancelled:
			stop(snapexport.ErrExportCancelled)
			return
		}
	}
}

// finishSharded concludes a sharded export once its components have
// ended: when all succeeded, it writes .complete and ends the export
// Successful; the service decides the other outcomes.
func (r *Runner) finishSharded(ctx context.Context, c snapexport.ExportClaim, job *snapexport.ExportJob) error {
	comps, ready, err := r.cfg.Jobs.ConcludeShardedExport(ctx, c, job)
	if err != nil || !ready {
		return err
	}
	target, err := r.cfg.Jobs.ExportTarget(ctx, job.ProjectID, job.ExportBucketID)
	if err != nil {
		return classify(err)
	}
	bucket, err := r.cfg.Buckets.Open(ctx, target)
	if err != nil {
		return classify(err)
	}
	defer bucket.Close()
	files, err := r.shardedFiles(ctx, comps)
	if err != nil {
		return classify(err)
	}
	// Every shard has finished: no writer is left under the prefix.
	if err := r.cfg.Buckets.RemoveIncomplete(ctx, target, job.Prefix, nil); err != nil {
		return classify(r.bucketFailure(ctx, target, "remove incomplete objects", err))
	}
	complete, err := r.cfg.Jobs.CompleteDocument(ctx, job)
	if err != nil {
		return err
	}
	complete.TotalFiles = files
	crashAt("complete", 1)
	if err := export.WriteComplete(ctx, bucket, job.Prefix, complete); err != nil {
		return classify(r.bucketFailure(ctx, target, "", err))
	}
	return r.cfg.Jobs.EndExportJob(ctx, c, snapexport.ExportSuccessful, nil)
}

// shardedFiles counts the objects of a sharded export: each shard's data
// objects, and one metadata.json per collection, which the shards holding
// the collection all write.
func (r *Runner) shardedFiles(ctx context.Context, comps []*snapexport.ExportJob) (int, error) {
	files := 0
	collections := map[string]bool{}
	for _, c := range comps {
		m, err := r.cfg.Snapshots.Manifest(ctx, snapshotstore.Location{ProjectID: c.ProjectID, SnapshotID: c.SourceSnapshotID})
		if err != nil {
			return 0, err
		}
		exported := export.Collections(m)
		files += c.Progress.Files - len(exported)
		for _, i := range exported {
			collections[m.Namespaces[i].DB+"\x00"+m.Namespaces[i].Name] = true
		}
	}
	return files + len(collections), nil
}
