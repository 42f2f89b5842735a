package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// SnapshotQueue takes snapshots in the background: EnqueueSnapshot asks
// for a queued or unfinished snapshot to be taken (again).
type SnapshotQueue interface {
	EnqueueSnapshot(ctx context.Context, projectID, snapshotID string) error
}

// SnapshotRequest is what a snapshot is taken for.
type SnapshotRequest struct {
	SnapshotType  string   // "onDemand" or "scheduled"
	FrequencyType string   // "ondemand", "hourly", "daily", "weekly", "monthly", "yearly"
	PolicyItemIDs []string // the policy items a scheduled snapshot is taken for
	Description   string
	ExpiresAt     time.Time
}

// snapshotTypes are the snapshotType values a snapshot can be taken as.
var snapshotTypes = []string{"onDemand", "scheduled"}

// captureWithin bounds the copy of a cluster's data into a snapshot: well
// within the grace the sweep of shared parts gives (OrphanGrace).
const captureWithin = OrphanGrace / 2

// TakeSnapshot queues a snapshot of the cluster's current data and returns it (status queued).
//
// A sharded cluster gets a sharded-cluster snapshot, which it returns,
// with one member snapshot per shard. A cluster has at most one snapshot
// being taken (UNFINISHED_ON_DEMAND_SNAPSHOT). The snapshot is taken by
// the SnapshotJobs queue: queued, then inProgress, then completed, its
// expiry then counted again from its completion; or failed.
func (s *Service) TakeSnapshot(ctx context.Context, projectID, clusterName string, req SnapshotRequest) (*snapexport.Snapshot, error) {
	if s.SnapshotData == nil {
		return nil, errors.New("no snapshot store is configured")
	}
	if !slices.Contains(snapshotTypes, req.SnapshotType) {
		return nil, snapexport.Errorf(snapexport.CodeInvalidEnumValue, "An invalid enumeration value %s was specified.", req.SnapshotType)
	}
	if !slices.Contains(SnapshotFrequencies, req.FrequencyType) {
		return nil, snapexport.Errorf(snapexport.CodeInvalidEnumValue, "An invalid enumeration value %s was specified.", req.FrequencyType)
	}
	now := s.now()
	if !req.ExpiresAt.After(now) {
		return nil, snapexport.Errorf(snapexport.CodeRetentionValueInvalid,
			"The retention value %s is invalid: the snapshot would expire before it is taken.", req.ExpiresAt.UTC().Format(time.RFC3339))
	}
	var snap *snapexport.Snapshot
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		c, err := s.projectCluster(ctx, tx, projectID, clusterName)
		if err != nil {
			return err
		}
		if !c.BackupEnabled {
			return snapexport.Errorf(snapexport.CodeBackupConfigNotFound,
				"No backup configuration exists for cluster %s in group %s.", c.Name, c.ProjectID)
		}
		if err := noUnfinishedSnapshot(ctx, tx, c); err != nil {
			return err
		}
		// CreatedAt is the request's time until the snapshot is taken.
		base := snapexport.Snapshot{ProjectID: c.ProjectID, ClusterID: c.ID, ClusterName: c.Name,
			Description: req.Description, SnapshotType: req.SnapshotType, FrequencyType: req.FrequencyType,
			PolicyItems: slices.Clone(req.PolicyItemIDs), Status: snapexport.SnapshotQueued, CreatedAt: now,
			ExpiresAt: req.ExpiresAt.UTC()}
		snap = &base
		snap.ID = NewID()
		if c.Type != snapexport.ClusterSharded {
			snap.Kind, snap.ReplicaSetName = snapexport.SnapshotReplicaSet, c.Shards[0].ReplicaSetName
			return tx.CreateSnapshot(ctx, snap)
		}
		snap.Kind = snapexport.SnapshotShardedCluster
		var members []*snapexport.Snapshot
		for _, sh := range c.Shards {
			m := base
			m.ID, m.Kind, m.ParentID, m.ReplicaSetName = NewID(), snapexport.SnapshotReplicaSet, snap.ID, sh.ReplicaSetName
			members = append(members, &m)
			snap.Members = append(snap.Members, snapexport.SnapshotMember{ID: m.ID, ReplicaSetName: m.ReplicaSetName})
		}
		if err := tx.CreateSnapshot(ctx, snap); err != nil {
			return err
		}
		for _, m := range members {
			if err := tx.CreateSnapshot(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// A snapshot recorded but not queued (a crash here, a queue failure)
	// is queued again when the server starts: see RequeueSnapshots.
	if s.SnapshotJobs != nil {
		if err := s.SnapshotJobs.EnqueueSnapshot(context.WithoutCancel(ctx), snap.ProjectID, snap.ID); err != nil {
			s.logger().Warn("snapshot not queued yet", "group", snap.ProjectID, "cluster", snap.ClusterName, "snapshot", snap.ID, "error", err)
		}
	}
	return snap, nil
}

// noUnfinishedSnapshot refuses a snapshot of c while another is being
// taken.
func noUnfinishedSnapshot(ctx context.Context, tx snapexport.Tx, c *snapexport.Cluster) error {
	unfinished, err := unfinishedSnapshots(ctx, tx, c)
	if err != nil || len(unfinished) == 0 {
		return err
	}
	return snapexport.Errorf(snapexport.CodeUnfinishedSnapshot,
		"Cluster %s already has a snapshot being taken (%s); wait until it completes.", c.Name, unfinished[0].ID)
}

// unfinishedSnapshots lists c's snapshots being taken (not their members).
func unfinishedSnapshots(ctx context.Context, tx snapexport.Tx, c *snapexport.Cluster) ([]*snapexport.Snapshot, error) {
	snaps, err := clusterSnapshots(ctx, tx, c, snapexport.SnapshotReplicaSet, snapexport.SnapshotShardedCluster)
	if err != nil {
		return nil, err
	}
	var out []*snapexport.Snapshot
	for _, snap := range snaps {
		if snap.Status.Unfinished() {
			out = append(out, snap)
		}
	}
	return out, nil
}

// takenSnapshot is a snapshot being taken: the one TakeSnapshot returned
// and the replica-set snapshots that hold its data (itself, or the
// members of a sharded-cluster snapshot).
type takenSnapshot struct {
	top     *snapexport.Snapshot
	holders []*snapexport.Snapshot
	cluster *snapexport.Cluster
}

// loadTaken reads a snapshot being taken and its cluster; nil when the
// snapshot is gone or no longer being taken.
func (s *Service) loadTaken(ctx context.Context, tx snapexport.Tx, projectID, id string) (*takenSnapshot, error) {
	t, err := unfinishedSnapshot(ctx, tx, projectID, id)
	if err != nil || t == nil {
		return nil, err
	}
	c, err := tx.Cluster(ctx, projectID, t.top.ClusterName)
	if err == nil && c.ID != t.top.ClusterID {
		err = snapexport.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("cluster %s of snapshot %s: %w", t.top.ClusterName, id, err)
	}
	t.cluster = c
	return t, nil
}

// unfinishedSnapshot reads a snapshot being taken, without its cluster;
// nil when it is gone or no longer being taken.
func unfinishedSnapshot(ctx context.Context, tx snapexport.Tx, projectID, id string) (*takenSnapshot, error) {
	snap, err := tx.Snapshot(ctx, projectID, "", id)
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil, nil
	}
	if err != nil || !snap.Status.Unfinished() {
		return nil, err
	}
	t := &takenSnapshot{top: snap, holders: []*snapexport.Snapshot{snap}}
	if snap.Kind == snapexport.SnapshotShardedCluster {
		t.holders = nil
		for _, m := range snap.Members {
			member, err := tx.Snapshot(ctx, projectID, snap.ClusterID, m.ID)
			if err != nil {
				return nil, err
			}
			t.holders = append(t.holders, member)
		}
	}
	return t, nil
}

// all is the snapshot and its members.
func (t *takenSnapshot) all() []*snapexport.Snapshot {
	if t.top.Kind != snapexport.SnapshotShardedCluster {
		return t.holders
	}
	return append([]*snapexport.Snapshot{t.top}, t.holders...)
}

// record writes the state of every snapshot of t.
func (t *takenSnapshot) record(ctx context.Context, tx snapexport.Tx) error {
	for _, snap := range t.all() {
		if err := tx.RecordSnapshotState(ctx, snap); err != nil {
			return err
		}
	}
	return nil
}

// RunSnapshot takes a queued snapshot (the SnapshotQueue's work) as c's
// run: it takes the snapshot's lease, marks it inProgress, copies the
// current data of each of its replica sets into it, sharing the data's
// parts, and completes it, renewing the lease meanwhile and giving it up
// at the end. A snapshot that is gone, completed or failed is left alone,
// and one interrupted midway is taken again from where it stopped;
// snapexport.ErrSnapshotLeaseHeld means another run is taking it (or took
// it over from this one), any other error that the run may be tried again.
func (s *Service) RunSnapshot(ctx context.Context, c snapexport.SnapshotClaim) (err error) {
	c = withLease(c)
	projectID, snapshotID := c.ProjectID, c.SnapshotID
	var t *takenSnapshot
	err = s.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		if t, err = s.loadTaken(ctx, tx, projectID, snapshotID); err != nil || t == nil {
			return err
		}
		if err := claimSnapshot(ctx, tx, c); err != nil {
			return err
		}
		provider := t.cluster.Provider
		if provider == "" {
			provider = snapexport.AWS
		}
		for _, snap := range t.all() {
			if snap.Status == snapexport.SnapshotQueued {
				snap.MongodVersion = t.cluster.MongoDBVersion
			}
			snap.Status, snap.CloudProvider = snapexport.SnapshotInProgress, provider
			if d := t.cluster.Deployment; d != nil {
				snap.Consistency = d.Consistency
			}
		}
		return t.record(ctx, tx)
	})
	if err != nil || t == nil {
		return err
	}
	// A run that lost the lease stops reading. The lease is given up
	// however the run ends, once no renewal can take it again, so that a
	// retry need not wait for it to lapse.
	ctx, stop := context.WithCancelCause(ctx)
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		s.keepSnapshotLease(ctx, stop, c)
	}()
	defer func() {
		stop(nil)
		<-kept
		if cause := context.Cause(ctx); errors.Is(cause, snapexport.ErrSnapshotLeaseHeld) {
			// Another run holds the lease: it is not this run's to give up.
			if err != nil {
				err = cause
			}
			return
		}
		s.releaseSnapshot(context.WithoutCancel(ctx), c)
	}()
	var taken time.Time
	if t.cluster.Deployment != nil {
		err := s.captureDeployment(ctx, t)
		var failure *captureFailure
		switch {
		case errors.As(err, &failure):
			return s.failSnapshot(context.WithoutCancel(ctx), c, failure.Reason)
		case errors.Is(err, errSnapshotEnded):
			return nil
		case err != nil:
			return err
		}
		taken = t.top.CreatedAt
	} else {
		// The data is copied from here: the snapshot's time.
		taken = s.now()
		for _, h := range t.holders {
			m, err := s.SnapshotData.Capture(ctx, clusterData(t.cluster, h.ReplicaSetName),
				snapshotstore.Location{ProjectID: h.ProjectID, SnapshotID: h.ID}, captureWithin)
			if err != nil {
				return err
			}
			h.Collections, h.StorageSizeBytes = m.Collections(), m.Size()
			if v := m.Source.ServerVersion; snapexport.MongoDBMajorVersion(v) != "" {
				h.MongodVersion = v
			}
		}
	}
	done := s.now()
	finished := false
	var exports []*snapexport.ExportJob
	err = s.Store.Write(ctx, func(tx snapexport.Tx) error {
		// Another run may have ended it meanwhile; one that is gone left
		// its data to the sweep of orphaned snapshot data.
		current, err := unfinishedSnapshot(ctx, tx, projectID, snapshotID)
		if finished = current != nil; err != nil || !finished {
			return err
		}
		// A run that lost its lease, even if the run that took it over
		// has let it go since, may have had its data rewritten by that run.
		if err := renewSnapshot(ctx, tx, c); err != nil {
			return err
		}
		retention := t.top.ExpiresAt.Sub(t.top.CreatedAt)
		if t.top.Kind == snapexport.SnapshotShardedCluster {
			t.top.StorageSizeBytes = 0
			for _, h := range t.holders {
				t.top.StorageSizeBytes += h.StorageSizeBytes
			}
			t.top.MongodVersion = t.holders[0].MongodVersion
		}
		for _, snap := range t.all() {
			snap.Status, snap.CreatedAt, snap.ExpiresAt, snap.ImportedAt = snapexport.SnapshotCompleted, taken, done.Add(retention), done
		}
		if err := t.record(ctx, tx); err != nil {
			return err
		}
		if t.cluster.Deployment != nil {
			if err := s.recordDeploymentVersion(ctx, tx, t.cluster, t.top.MongodVersion); err != nil {
				return err
			}
		}
		_, exports, err = s.recordAutoExport(ctx, tx, t.top)
		return err
	})
	if err != nil || !finished {
		return err
	}
	s.observer().SnapshotEnded(string(snapexport.SnapshotCompleted), t.top.StorageSizeBytes)
	s.enqueueExports(ctx, exports)
	return nil
}

// recordAutoExport records, in the transaction that completes snap (takes
// or imports it), the export its cluster's backup schedule asks for, so
// that a snapshot seen completed, or completed by a server that then died,
// has it. It returns the export (nil when none) and the jobs to queue once
// tx commits. An export the rules refuse (its bucket gone, say) is logged
// and leaves the snapshot completed, as Atlas reports it in its activity
// feed rather than to the snapshot's maker.
func (s *Service) recordAutoExport(ctx context.Context, tx snapexport.Tx, snap *snapexport.Snapshot) (*snapexport.ExportJob, []*snapexport.ExportJob, error) {
	c, err := s.cluster(ctx, tx, snap.ProjectID, snap.ClusterName)
	if err == nil && !exportsSnapshot(c.Schedule, snap) {
		return nil, nil, nil
	}
	var job *snapexport.ExportJob
	var queued []*snapexport.ExportJob
	if err == nil {
		job, queued, err = s.recordExportJob(ctx, tx, ExportJobInput{ProjectID: c.ProjectID, ClusterName: c.Name, SnapshotID: snap.ID,
			ExportBucketID: c.Schedule.ExportBucketID})
	}
	if refused := (*snapexport.Error)(nil); errors.As(err, &refused) {
		s.logger().Warn("automatic export not started", "group", snap.ProjectID, "cluster", snap.ClusterName, "snapshot", snap.ID, "error", err)
		return nil, nil, nil
	}
	return job, queued, err
}

// FailSnapshot ends, as c's run, a snapshot that could not be taken (why
// says why; it is kept as the snapshot's FailureReason and logged) and
// removes what was copied into it; snapexport.ErrSnapshotLeaseHeld when
// another run is taking it.
func (s *Service) FailSnapshot(ctx context.Context, c snapexport.SnapshotClaim, why string) error {
	c = withLease(c)
	defer s.releaseSnapshot(context.WithoutCancel(ctx), c)
	return s.failSnapshot(ctx, c, why)
}

func (s *Service) failSnapshot(ctx context.Context, c snapexport.SnapshotClaim, why string) error {
	projectID, snapshotID := c.ProjectID, c.SnapshotID
	var t *takenSnapshot
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		if t, err = unfinishedSnapshot(ctx, tx, projectID, snapshotID); err != nil || t == nil {
			return err
		}
		if err := claimSnapshot(ctx, tx, c); err != nil {
			return err
		}
		for _, snap := range t.all() {
			snap.Status, snap.FailureReason = snapexport.SnapshotFailed, why
		}
		return t.record(ctx, tx)
	})
	if err != nil || t == nil {
		return err
	}
	s.logger().Warn("snapshot failed", "group", projectID, "cluster", t.top.ClusterName, "snapshot", snapshotID, "reason", why)
	s.observer().SnapshotEnded(string(snapexport.SnapshotFailed), 0)
	s.deleteSnapshotData(ctx, t.holders)
	return nil
}

// DefaultSnapshotLease is the lease of a SnapshotClaim that names none.
const DefaultSnapshotLease = 30 * time.Second

func withLease(c snapexport.SnapshotClaim) snapexport.SnapshotClaim {
	if c.Lease <= 0 {
		c.Lease = DefaultSnapshotLease
	}
	return c
}

// claimSnapshot gives c's run the snapshot's lease for another c.Lease
// from now, in tx, when it is free or already the run's;
// snapexport.ErrSnapshotLeaseHeld when another run holds it.
func claimSnapshot(ctx context.Context, tx snapexport.Tx, c snapexport.SnapshotClaim) error {
	now := time.Now()
	held, err := tx.ClaimSnapshot(ctx, c.ProjectID, c.SnapshotID, c.Holder, now, now.Add(c.Lease))
	if err == nil && !held {
		err = snapexport.ErrSnapshotLeaseHeld
	}
	return err
}

// renewSnapshot extends c's lease if c's run still holds it: no other run
// claimed it since.
func renewSnapshot(ctx context.Context, tx snapexport.Tx, c snapexport.SnapshotClaim) error {
	held, err := tx.RenewSnapshot(ctx, c.ProjectID, c.SnapshotID, c.Holder, time.Now().Add(c.Lease))
	if err == nil && !held {
		err = snapexport.ErrSnapshotLeaseHeld
	}
	return err
}

// releaseSnapshot gives c's lease up, if c's run still holds it.
func (s *Service) releaseSnapshot(ctx context.Context, c snapexport.SnapshotClaim) {
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		_, err := tx.ClaimSnapshot(ctx, c.ProjectID, c.SnapshotID, c.Holder, time.Now(), time.Time{})
		return err
	})
	if err != nil && !errors.Is(err, snapexport.ErrNotFound) {
		s.logger().Warn("snapshot lease not given up; it lapses", "group", c.ProjectID, "snapshot", c.SnapshotID, "error", err)
	}
}

// keepSnapshotLease renews c's lease every third of it until ctx ends; it
// stops the run (with snapexport.ErrSnapshotLeaseHeld) once another run
// holds the lease.
func (s *Service) keepSnapshotLease(ctx context.Context, stop context.CancelCauseFunc, c snapexport.SnapshotClaim) {
	t := time.NewTicker(c.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.Store.Write(ctx, func(tx snapexport.Tx) error { return renewSnapshot(ctx, tx, c) })
		switch {
		case errors.Is(err, snapexport.ErrSnapshotLeaseHeld):
			s.logger().Warn("snapshot lease lost to another run; this run stops", "group", c.ProjectID, "snapshot", c.SnapshotID)
			// The run that holds the lease now may already be writing
			// where this run's import was: the import must not delete it.
			stop(fmt.Errorf("%w (%w)", err, snapshotstore.ErrTakenOver))
			return
		case err != nil && ctx.Err() == nil && !errors.Is(err, snapexport.ErrNotFound):
			s.logger().Warn("snapshot lease not renewed", "group", c.ProjectID, "snapshot", c.SnapshotID, "error", err)
		}
	}
}

// LapsedSnapshots lists up to limit snapshots of any project being taken
// whose run stopped renewing its lease: a server that died, on any
// replica.
func (s *Service) LapsedSnapshots(ctx context.Context, limit int) ([]*snapexport.Snapshot, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) ([]*snapexport.Snapshot, error) {
		return tx.LapsedSnapshots(ctx, time.Now(), limit)
	})
}

// RequeueSnapshots queues again every snapshot of every project that is
// still being taken: those recorded while no queue could take them, and
// those of a server that stopped or died while taking them.
func (s *Service) RequeueSnapshots(ctx context.Context) error {
	if s.SnapshotJobs == nil {
		return nil
	}
	var unfinished []*snapexport.Snapshot
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		projects, err := allProjects(ctx, tx)
		if err != nil {
			return err
		}
		for _, p := range projects {
			clusters, _, err := tx.ListClusters(ctx, p.ID, snapexport.Page{})
			if err != nil {
				return err
			}
			for _, c := range clusters {
				snaps, err := unfinishedSnapshots(ctx, tx, c)
				if err != nil {
					return err
				}
				unfinished = append(unfinished, snaps...)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, snap := range unfinished {
		if err := s.SnapshotJobs.EnqueueSnapshot(ctx, snap.ProjectID, snap.ID); err != nil {
			return err
		}
	}
	return nil
}
