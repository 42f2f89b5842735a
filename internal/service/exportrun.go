package service

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/snapexport/snapexport"
)

// The operations below are an export job's life as its runner lives it:
// claim the job, record its progress, renew the claim, end the job, and for
// a sharded export conclude it once its shards have ended. Each write is
// made only while the run holds the job's lease, so that a run that
// stalled past its lease stops at its next write instead of racing the run
// that took over.

// LoadExportJob reads a job by id for its runner, components included;
// snapexport.ErrNotFound when it is gone (removed with its project).
func (s *Service) LoadExportJob(ctx context.Context, projectID, id string) (*snapexport.ExportJob, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) (*snapexport.ExportJob, error) {
		return tx.ExportJob(ctx, projectID, id)
	})
}

// ClaimExportJob gives c's run the job's lease, when it is free or already
// c's, and returns the job as it is then; snapexport.ErrLeaseHeld when
// another run holds it.
func (s *Service) ClaimExportJob(ctx context.Context, c snapexport.ExportClaim) (*snapexport.ExportJob, error) {
	var job *snapexport.ExportJob
	var takenOver bool
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		runner, until, err := tx.ExportJobLease(ctx, c.ProjectID, c.JobID)
		if err != nil {
			return err
		}
		held, err := claimLease(ctx, tx, c)
		if err != nil {
			return err
		}
		if !held {
			return snapexport.ErrLeaseHeld
		}
		// Another run's lease that lapsed: its runner died or stalled.
		takenOver = runner != "" && runner != c.Holder && until != nil
		job, err = tx.ExportJob(ctx, c.ProjectID, c.JobID)
		return err
	})
	if err == nil && takenOver {
		s.observer().ExportLeaseTakenOver()
	}
	return job, err
}

// ReleaseExportJob gives c's lease up at once, so that a retry here or
// elsewhere need not wait for it to lapse.
func (s *Service) ReleaseExportJob(ctx context.Context, c snapexport.ExportClaim) error {
	return s.Store.Write(ctx, func(tx snapexport.Tx) error {
		_, err := tx.ClaimExportJob(ctx, c.ProjectID, c.JobID, c.Holder, time.Now(), time.Time{})
		return err
	})
}

// RenewExportClaim extends c's lease, records live progress when given,
// and reports whether the job was asked to stop;
// snapexport.ErrLeaseHeld when the lease was lost to another run.
func (s *Service) RenewExportClaim(ctx context.Context, c snapexport.ExportClaim, live *snapexport.LiveProgress) (cancelRequested bool, err error) {
	err = s.Store.Write(ctx, func(tx snapexport.Tx) error {
		held, err := renewLease(ctx, tx, c)
		if err != nil {
			return err
		}
		if !held {
			return snapexport.ErrLeaseHeld
		}
		job, err := tx.ExportJob(ctx, c.ProjectID, c.JobID)
		if err != nil {
			return err
		}
		cancelRequested = job.CancelRequested
		if live == nil {
			return nil
		}
		job.Progress.Documents, job.Progress.Bytes = live.Documents, live.Bytes
		return tx.UpdateExportJob(ctx, job)
	})
	return cancelRequested, err
}

// RecordExportProgress records the progress of c's job, which is then
// InProgress, as is its sharded export when it was still Queued. It fails
// with snapexport.ErrLeaseHeld when another run holds the job,
// snapexport.ErrExportCancelled when the job was asked to stop and
// snapexport.ErrExportEnded when it has ended.
func (s *Service) RecordExportProgress(ctx context.Context, c snapexport.ExportClaim, p snapexport.ExportProgress) error {
	return s.Store.Write(ctx, func(tx snapexport.Tx) error {
		job, err := heldActiveJob(ctx, tx, c)
		if err != nil {
			return err
		}
		job.State, job.Progress = snapexport.ExportInProgress, p
		if err := tx.UpdateExportJob(ctx, job); err != nil {
			return err
		}
		if job.ParentID == "" {
			return nil
		}
		parent, err := tx.ExportJob(ctx, job.ProjectID, job.ParentID)
		if err != nil || parent.State != snapexport.ExportQueued {
			return err
		}
		parent.State = snapexport.ExportInProgress
		return tx.UpdateExportJob(ctx, parent)
	})
}

// heldActiveJob reads c's job for a write of its run: only the lease's
// holder writes, to a job still active that nobody asked to stop.
func heldActiveJob(ctx context.Context, tx snapexport.Tx, c snapexport.ExportClaim) (*snapexport.ExportJob, error) {
	held, err := renewLease(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	if !held {
		return nil, snapexport.ErrLeaseHeld
	}
	job, err := tx.ExportJob(ctx, c.ProjectID, c.JobID)
	switch {
	case err != nil:
		return nil, err
	case job.CancelRequested:
		return nil, snapexport.ErrExportCancelled
	case !job.State.Active():
		return nil, snapexport.ErrExportEnded
	}
	return job, nil
}

// EndExportJob ends c's job in state, with why for Failed, and wakes the
// sharded export of a shard's job so that it can conclude. A job another
// run holds is that run's to end (it sees a cancellation at its next
// renewal), and an ended or removed job is left as it is.
func (s *Service) EndExportJob(ctx context.Context, c snapexport.ExportClaim, state snapexport.ExportState, why *snapexport.ExportStateReason) error {
	var ended *snapexport.ExportJob
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		ended = nil
		held, err := claimLease(ctx, tx, c)
		if err != nil || !held {
			return err
		}
		job, err := tx.ExportJob(ctx, c.ProjectID, c.JobID)
		if err != nil || !job.State.Active() {
			return err
		}
		finished := s.now()
		job.State, job.StateReason, job.FinishedAt = state, why, &finished
		if err := tx.UpdateExportJob(ctx, job); err != nil {
			return err
		}
		ended = job
		// The log tells a sharded export's figures: its shards'.
		return sumComponents(ctx, tx, job)
	})
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if ended == nil {
		return nil
	}
	s.logEnded(ctx, ended)
	if ended.ParentID == "" || s.Exports == nil {
		return nil
	}
	return s.Exports.Enqueue(ctx, c.ProjectID, ended.ParentID)
}

// logEnded tells the end of a job: its state, why it failed, what it had
// exported and how long after its creation it ended. A failure is a
// warning: the server works, but the export did not.
func (s *Service) logEnded(ctx context.Context, job *snapexport.ExportJob) {
	level := slog.LevelInfo
	attrs := append(job.LogAttrs(), slog.String("state", string(job.State)))
	if job.State == snapexport.ExportFailed {
		level = slog.LevelWarn
	}
	if why := job.StateReason; why != nil {
		attrs = append(attrs, slog.String("errorCode", why.ErrorCode), slog.String("message", why.Message))
	}
	attrs = append(attrs, slog.Int("collections", job.Progress.ExportedCollections),
		slog.Int64("documents", job.Progress.Documents), slog.Int64("bytes", job.Progress.Bytes),
		// A job dated a second later than its creation (see
		// CreateExportJob) may end before its date.
		slog.Duration("sinceCreated", max(job.FinishedAt.Sub(job.CreatedAt), 0)))
	if len(job.Components) > 0 {
		attrs = append(attrs, slog.Int("shards", len(job.Components)))
	}
	s.logger().LogAttrs(ctx, level, "export ended", attrs...)
	if job.ParentID == "" {
		s.observer().ExportEnded(string(job.State), max(job.FinishedAt.Sub(job.CreatedAt), 0))
	}
}

// ConcludeShardedExport decides the sharded export c holds, as its
// components stand: when one failed or was cancelled, the others are
// cancelled and, once none is active, the export ends Failed (with the
// shard's reason) or Cancelled. It returns the components, ready true,
// when every one succeeded: the runner then writes the export's .complete
// and ends it Successful. Otherwise the export waits for its components,
// the last of which wakes it again.
func (s *Service) ConcludeShardedExport(ctx context.Context, c snapexport.ExportClaim, job *snapexport.ExportJob) (comps []*snapexport.ExportJob, ready bool, err error) {
	err = s.Store.Read(ctx, func(tx snapexport.Tx) error {
		comps = comps[:0]
		for _, comp := range job.Components {
			j, err := tx.ExportJob(ctx, job.ProjectID, comp.ExportID)
			if err != nil {
				return err
			}
			comps = append(comps, j)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	var failed, cancelled *snapexport.ExportJob
	active := 0
	for _, comp := range comps {
		switch comp.State {
		case snapexport.ExportFailed:
			failed = comp
		case snapexport.ExportCancelled:
			cancelled = comp
		case snapexport.ExportSuccessful:
		default:
			active++
		}
	}
	switch {
	case (failed != nil || cancelled != nil) && active > 0:
		if !job.CancelRequested { // not asked before, by a user or an earlier wake-up
			ended := cmp.Or(failed, cancelled)
			s.logger().LogAttrs(ctx, slog.LevelInfo, "sharded export stopping its other shards",
				append(job.LogAttrs(), slog.String("endedComponent", ended.ID), slog.String("endedReplicaSet", ended.ReplicaSetName),
					slog.String("endedState", string(ended.State)))...)
		}
		_, err := s.CancelExportJobByID(ctx, job.ProjectID, job.ID)
		return nil, false, err
	case failed != nil:
		why := *failed.StateReason
		why.Message = "shard " + failed.ReplicaSetName + ": " + why.Message
		return nil, false, s.EndExportJob(ctx, c, snapexport.ExportFailed, &why)
	case cancelled != nil:
		return nil, false, s.EndExportJob(ctx, c, snapexport.ExportCancelled, nil)
	case active > 0:
		return nil, false, nil
	}
	return comps, true, nil
}

// LapsedExportJobs lists up to limit active jobs of any project whose
// runner stopped renewing its lease: a server that died, on any replica.
func (s *Service) LapsedExportJobs(ctx context.Context, limit int) ([]*snapexport.ExportJob, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) ([]*snapexport.ExportJob, error) {
		return tx.LapsedExportJobs(ctx, time.Now(), limit)
	})
}

// claimLease gives c's run the job's lease for another c.Lease from now,
// in tx, when it is free or already the run's; it reports whether the run
// holds it.
func claimLease(ctx context.Context, tx snapexport.Tx, c snapexport.ExportClaim) (bool, error) {
	now := time.Now()
	return tx.ClaimExportJob(ctx, c.ProjectID, c.JobID, c.Holder, now, now.Add(c.Lease))
}

// renewLease extends the lease of c's run for another c.Lease from now,
// in tx, when the run still holds it: a run that stood still while
// another claimed the job does not get it back once that one let it go.
// It reports whether the run holds it.
func renewLease(ctx context.Context, tx snapexport.Tx, c snapexport.ExportClaim) (bool, error) {
	return tx.RenewExportJob(ctx, c.ProjectID, c.JobID, c.Holder, time.Now().Add(c.Lease))
}
