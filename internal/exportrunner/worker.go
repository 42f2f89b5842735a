package exportrunner

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"gocloud.dev/gcerrors"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/export"
	"github.com/snapexport/snapexport/internal/snapshotstore"
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

// errLeaseHeld means another runner is working on the job.
var errLeaseHeld = errors.New("another runner holds the job")

// errEnded means the job ended while this run worked on it.
var errEnded = errors.New("export already ended")

// errCancelled means the job was cancelled while it ran.
var errCancelled = errors.New("export cancelled")

func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	r := w.r
	// The lease holder is this run, not this server: two River jobs of
	// one export (a requeue beside a rescue), or two attempts of one, may
	// reach the same server.
	holder := r.id + "/" + strconv.FormatInt(job.ID, 10) + "/" + strconv.Itoa(job.Attempt)
	err := r.run(ctx, job.Args, holder)
	var p *permanent
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errEnded):
		return nil
	case errors.Is(err, errLeaseHeld):
		// Soon again: the holder may be a sharded export's other wake-up,
		// done in a moment, or a dead runner whose lease lapses.
		return river.JobSnooze(max(min(r.cfg.Lease/3, 2*time.Second), 100*time.Millisecond))
	case errors.Is(err, errCancelled):
		return r.end(context.WithoutCancel(ctx), job.Args, holder, snapexport.ExportCancelled, nil)
	case ctx.Err() != nil:
		// The server is stopping: the next start resumes the job.
		return err
	case errors.As(err, &p):
		return r.end(context.WithoutCancel(ctx), job.Args, holder, snapexport.ExportFailed, reason(p.code, err))
	case job.Attempt >= job.MaxAttempts:
		return r.end(context.WithoutCancel(ctx), job.Args, holder, snapexport.ExportFailed, reason(snapexport.ReasonExportFailed,
			fmt.Errorf("gave up after %d attempts: %w", job.Attempt, err)))
	}
	r.cfg.Logger.Warn("export attempt failed; retrying", "group", job.Args.ProjectID, "export", job.Args.JobID,
		"attempt", job.Attempt, "error", err)
	return err
}

func reason(code string, err error) *snapexport.ExportStateReason {
	return &snapexport.ExportStateReason{ErrorCode: code, Message: err.Error()}
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

// load reads an export job.
func (r *Runner) load(ctx context.Context, args Args) (*snapexport.ExportJob, error) {
	var job *snapexport.ExportJob
	err := r.cfg.Service.Store.Read(ctx, func(tx snapexport.Tx) error {
		var err error
		job, err = tx.ExportJob(ctx, args.ProjectID, args.JobID)
		return err
	})
	return job, err
}

// run works on an export job until it ends or fails.
func (r *Runner) run(ctx context.Context, args Args, holder string) error {
	job, err := r.load(ctx, args)
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil // removed with its project
	}
	if err != nil {
		return err
	}
	if !job.State.Active() {
		if job.ParentID != "" {
			// The run that ended it may have died before waking the
			// parent.
			return r.Enqueue(ctx, job.ProjectID, job.ParentID)
		}
		return nil
	}
	if len(job.Components) > 0 {
		// Each shard that ends wakes the parent: the lease keeps two
		// wake-ups from concluding it (and writing .complete) at once.
		if err := r.claim(ctx, job, holder); err != nil {
			return err
		}
		defer r.release(context.WithoutCancel(ctx), job, holder)
		if job, err = r.load(ctx, args); err != nil || !job.State.Active() {
			return err
		}
		return r.finishSharded(ctx, job, holder)
	}
	if job.CancelRequested {
		return errCancelled
	}
	if err := r.claim(ctx, job, holder); err != nil {
		return err
	}
	// Another run may have ended the job before this one got the lease.
	if job, err = r.load(ctx, args); err != nil || !job.State.Active() {
		r.release(context.WithoutCancel(ctx), &snapexport.ExportJob{ProjectID: args.ProjectID, ID: args.JobID}, holder)
		return err
	}
	r.cfg.Logger.Info("export running", "group", job.ProjectID, "export", job.ID, "runner", holder,
		"fromCollection", job.Progress.ExportedCollections)
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go r.keepLease(runCtx, stop, job.ProjectID, job.ID, holder)

	err = r.export(runCtx, job, holder)
	if cause := context.Cause(runCtx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	if err != nil {
		r.release(context.WithoutCancel(ctx), job, holder)
		return classify(err)
	}
	return nil
}

// export writes the job's collections from the first unfinished one, then
// ends the job.
func (r *Runner) export(ctx context.Context, job *snapexport.ExportJob, holder string) error {
	loc := snapshotstore.Location{ProjectID: job.ProjectID, SnapshotID: job.SourceSnapshotID}
	m, err := r.cfg.Snapshots.Manifest(ctx, loc)
	if err != nil {
		return err
	}
	target, err := r.cfg.Service.ExportTarget(ctx, job.ProjectID, job.ExportBucketID)
	if err != nil {
		return err
	}
	bucket, err := r.cfg.Buckets.Open(ctx, target)
	if err != nil {
		return err
	}
	defer bucket.Close()
	if err := export.WritePermissionCheck(ctx, bucket); err != nil {
		return err
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
		return err
	}
	cols := export.Collections(m)
	// Counts restart from the finished collections: a collection cut
	// short is counted again as it is written again.
	p := snapexport.ExportProgress{TotalCollections: len(cols), ExportedCollections: job.Progress.ExportedCollections,
		Files: job.Progress.Files}
	for i, c := range cols {
		p.TotalDocuments += m.Namespaces[c].Count
		p.TotalBytes += m.Namespaces[c].Size
		if i < p.ExportedCollections {
			p.Documents += m.Namespaces[c].Count
			p.Bytes += m.Namespaces[c].Size
		}
	}
	if err := r.update(ctx, job, holder, func(j *snapexport.ExportJob) {
		j.State, j.Progress = snapexport.ExportInProgress, p
	}); err != nil {
		return err
	}
	if job.ParentID != "" {
		if err := r.markRunning(ctx, job.ProjectID, job.ParentID); err != nil {
			return err
		}
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
		r.setLive(job.ID, docs, bytes)
		crashAt("documents", docs)
	}, func(res export.Result) {
		p.ExportedCollections++
		p.Files += len(res.Keys)
		p.Documents += m.Namespaces[res.Index].Count
		p.Bytes += m.Namespaces[res.Index].Size
		if err := r.update(ctx, job, holder, func(j *snapexport.ExportJob) { j.Progress = p }); err != nil {
			stop(err)
			return
		}
		crashAt("collections", int64(p.ExportedCollections))
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil {
		return err
	}
	if job.ParentID != "" {
		return r.endNow(ctx, job, holder, snapexport.ExportSuccessful, nil)
	}
	c, err := r.cfg.Service.CompleteDocument(ctx, job)
	if err != nil {
		return err
	}
	c.TotalFiles = p.Files
	crashAt("complete", 1)
	if err := export.WriteComplete(ctx, bucket, job.Prefix, c); err != nil {
		return err
	}
	return r.endNow(ctx, job, holder, snapexport.ExportSuccessful, nil)
}

// setLive records the documents and bytes of a collection being written,
// for watchers; the lease renewal stores them.
func (r *Runner) setLive(jobID string, docs, bytes int64) {
	r.live.Store(jobID, [2]int64{docs, bytes})
}

// claim takes the job's lease, or errLeaseHeld.
func (r *Runner) claim(ctx context.Context, job *snapexport.ExportJob, holder string) error {
	var got bool
	err := r.cfg.Service.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		got, err = r.renew(ctx, tx, job.ProjectID, job.ID, holder)
		return err
	})
	if err != nil {
		return err
	}
	if !got {
		return errLeaseHeld
	}
	return nil
}

// renew gives holder the job's lease for another r.cfg.Lease from now, in
// tx, when it is free or already holder's; it reports whether holder holds
// it.
func (r *Runner) renew(ctx context.Context, tx snapexport.Tx, projectID, jobID, holder string) (bool, error) {
	now := time.Now()
	return tx.ClaimExportJob(ctx, projectID, jobID, holder, now, now.Add(r.cfg.Lease))
}

// release gives the lease up at once, so that a retry here or elsewhere
// need not wait for it to lapse.
func (r *Runner) release(ctx context.Context, job *snapexport.ExportJob, holder string) {
	_ = r.cfg.Service.Store.Write(ctx, func(tx snapexport.Tx) error {
		_, err := tx.ClaimExportJob(ctx, job.ProjectID, job.ID, holder, time.Now(), time.Time{})
		return err
	})
}

// keepLease renews the lease until ctx ends; it stops the run when the
// lease is lost or the job is cancelled.
func (r *Runner) keepLease(ctx context.Context, stop context.CancelCauseFunc, projectID, jobID, holder string) {
	t := time.NewTicker(min(r.cfg.Lease/3, time.Second))
	defer t.Stop()
	defer r.live.Delete(jobID)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var held, cancelled bool
		err := r.cfg.Service.Store.Write(ctx, func(tx snapexport.Tx) error {
			var err error
			if held, err = r.renew(ctx, tx, projectID, jobID, holder); err != nil || !held {
				return err
			}
			current, err := tx.ExportJob(ctx, projectID, jobID)
			if err != nil {
				return err
			}
			cancelled = current.CancelRequested
			if v, ok := r.live.Load(jobID); ok {
				live := v.([2]int64)
				current.Progress.Documents, current.Progress.Bytes = live[0], live[1]
				return tx.UpdateExportJob(ctx, current)
			}
			return nil
		})
		switch {
		case err != nil && ctx.Err() == nil:
			r.cfg.Logger.Warn("export lease not renewed", "export", jobID, "error", err)
		case err == nil && !held:
			stop(errLeaseHeld)
			return
		case cancelled:
			stop(errCancelled)
			return
		}
	}
}

// update changes a job's progress or state as its runner.
func (r *Runner) update(ctx context.Context, job *snapexport.ExportJob, holder string, change func(*snapexport.ExportJob)) error {
	return r.cfg.Service.Store.Write(ctx, func(tx snapexport.Tx) error {
		// Only the lease's holder writes: a run that lost it (stalled
		// past its lease) stops here.
		held, err := r.renew(ctx, tx, job.ProjectID, job.ID, holder)
		if err != nil {
			return err
		}
		if !held {
			return errLeaseHeld
		}
		current, err := tx.ExportJob(ctx, job.ProjectID, job.ID)
		if err != nil {
			return err
		}
		if current.CancelRequested {
			return errCancelled
		}
		if !current.State.Active() {
			return errEnded
		}
		change(current)
		return tx.UpdateExportJob(ctx, current)
	})
}

// endNow ends a job in state with reason (for Failed).
func (r *Runner) endNow(ctx context.Context, job *snapexport.ExportJob, holder string, state snapexport.ExportState, why *snapexport.ExportStateReason) error {
	return r.end(ctx, Args{ProjectID: job.ProjectID, JobID: job.ID}, holder, state, why)
}

// end ends an active job and, for a shard's job, lets its sharded export
// conclude.
func (r *Runner) end(ctx context.Context, args Args, holder string, state snapexport.ExportState, why *snapexport.ExportStateReason) error {
	var parent string
	err := r.cfg.Service.Store.Write(ctx, func(tx snapexport.Tx) error {
		parent = ""
		// A job another run holds is that run's to end (it sees a
		// cancellation at its next lease renewal).
		held, err := r.renew(ctx, tx, args.ProjectID, args.JobID, holder)
		if err != nil || !held {
			return err
		}
		job, err := tx.ExportJob(ctx, args.ProjectID, args.JobID)
		if err != nil || !job.State.Active() {
			return err
		}
		finished := r.cfg.Service.Time()
		job.State, job.StateReason, job.FinishedAt = state, why, &finished
		parent = job.ParentID
		return tx.UpdateExportJob(ctx, job)
	})
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if parent != "" {
		return r.Enqueue(ctx, args.ProjectID, parent)
	}
	return nil
}

// finishSharded concludes a sharded export once its components have
// ended: Successful (after .complete) when all succeeded, Failed when one
// failed (the others are cancelled), Cancelled when one was cancelled.
func (r *Runner) finishSharded(ctx context.Context, job *snapexport.ExportJob, holder string) error {
	var comps []*snapexport.ExportJob
	err := r.cfg.Service.Store.Read(ctx, func(tx snapexport.Tx) error {
		for _, c := range job.Components {
			comp, err := tx.ExportJob(ctx, job.ProjectID, c.ExportID)
			if err != nil {
				return err
			}
			comps = append(comps, comp)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var failed, cancelled *snapexport.ExportJob
	active := 0
	for _, c := range comps {
		switch c.State {
		case snapexport.ExportFailed:
			failed = c
		case snapexport.ExportCancelled:
			cancelled = c
		case snapexport.ExportSuccessful:
		default:
			active++
		}
	}
	switch {
	case failed != nil || cancelled != nil:
		if active > 0 {
			if _, err := r.cfg.Service.CancelExportJobByID(ctx, job.ProjectID, job.ID); err != nil {
				return err
			}
			return nil // the last component to stop brings the parent here again
		}
		if failed != nil {
			why := *failed.StateReason
			why.Message = "shard " + failed.ReplicaSetName + ": " + why.Message
			return r.endNow(ctx, job, holder, snapexport.ExportFailed, &why)
		}
		return r.endNow(ctx, job, holder, snapexport.ExportCancelled, nil)
	case active > 0:
		return nil
	}
	target, err := r.cfg.Service.ExportTarget(ctx, job.ProjectID, job.ExportBucketID)
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
		return classify(err)
	}
	c, err := r.cfg.Service.CompleteDocument(ctx, job)
	if err != nil {
		return err
	}
	c.TotalFiles = files
	crashAt("complete", 1)
	if err := export.WriteComplete(ctx, bucket, job.Prefix, c); err != nil {
		return classify(err)
	}
	return r.endNow(ctx, job, holder, snapexport.ExportSuccessful, nil)
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

// markRunning moves a sharded export to InProgress when its first
// component starts.
func (r *Runner) markRunning(ctx context.Context, projectID, id string) error {
	return r.cfg.Service.Store.Write(ctx, func(tx snapexport.Tx) error {
		j, err := tx.ExportJob(ctx, projectID, id)
		if err != nil || j.State != snapexport.ExportQueued {
			return err
		}
		j.State = snapexport.ExportInProgress
		return tx.UpdateExportJob(ctx, j)
	})
}
