package service

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/snapexport/snapexport"
)

// SnapshotTaker takes a snapshot of a cluster as a request describes it
// and returns it as it then is (completed, or still being taken).
type SnapshotTaker interface {
	TakeSnapshot(ctx context.Context, projectID, clusterName string, req SnapshotRequest) (*snapexport.Snapshot, error)
}

// scheduleClaimsKept is how long the claim of an instant is kept after
// it: far longer than any server's tick lags behind its clock.
const scheduleClaimsKept = 7 * 24 * time.Hour

// Scheduler takes the snapshots that clusters' backup schedules call for,
// by the service's clock. Each instant of a cluster's schedule is claimed
// in the store before its snapshot is taken, so that among servers sharing
// a database exactly one takes it.
//
// A tick looks at the instants since the previous tick (since Start for
// the first) and takes, for each cluster, the snapshot of the latest of
// them: instants that passed while no server ran, or while a tick was
// late, are not taken afterwards.
type Scheduler struct {
	Service *Service
	Taker   SnapshotTaker

	mu    sync.Mutex
	since time.Time
	// retryFrom keeps, by cluster id, the start of the ticks' window for
	// clusters whose snapshot could not be taken, so that the next tick
	// tries that instant again while it is still the latest.
	retryFrom map[string]time.Time
}

// Start sets the time from which the scheduler takes snapshots, now by the
// service's clock, unless it was started before.
func (sc *Scheduler) Start() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.since.IsZero() {
		sc.since = sc.Service.now()
	}
}

// Tick takes the snapshots that became due since the previous tick and
// returns those this server took. Ticks of one scheduler run one at a
// time; one before Start only starts it.
func (sc *Scheduler) Tick(ctx context.Context) ([]*snapexport.Snapshot, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	now := sc.Service.now()
	if sc.since.IsZero() {
		sc.since = now
		return nil, nil
	}
	if !now.After(sc.since) {
		return nil, nil
	}
	clusters, err := sc.Service.allClusters(ctx)
	if err != nil {
		return nil, err
	}
	retryFrom := map[string]time.Time{}
	var taken []*snapexport.Snapshot
	var firstErr error
	for _, c := range clusters {
		from := sc.since
		if t, ok := sc.retryFrom[c.ID]; ok {
			from = t
		}
		snap, err := sc.takeDue(ctx, c, from, now)
		if err != nil {
			if ctx.Err() != nil {
				return taken, ctx.Err()
			}
			retryFrom[c.ID] = from
			sc.Service.logger().Warn("scheduled snapshot not taken", "group", c.ProjectID, "cluster", c.Name, "error", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if snap != nil {
			taken = append(taken, snap)
		}
	}
	sc.since, sc.retryFrom = now, retryFrom
	return taken, firstErr
}

// takeDue takes c's snapshot of the latest instant of its schedule in
// (from, now], unless another server claimed it; nil when there is none
// to take.
func (sc *Scheduler) takeDue(ctx context.Context, c *snapexport.Cluster, from, now time.Time) (*snapexport.Snapshot, error) {
	if !c.BackupEnabled {
		return nil, nil
	}
	instants := c.Schedule.InstantsBetween(from, now)
	if len(instants) == 0 {
		return nil, nil
	}
	at := instants[len(instants)-1]
	items, frequency, expires := c.Schedule.DueAt(at)
	svc := sc.Service
	claimed, err := snapexport.WriteValue(ctx, svc.Store, func(tx snapexport.Tx) (bool, error) {
		return tx.ClaimScheduledSnapshot(ctx, c.ProjectID, c.ID, at, at.Add(-scheduleClaimsKept))
	})
	if err != nil || !claimed {
		return nil, err
	}
	req := SnapshotRequest{SnapshotType: "scheduled", FrequencyType: frequency, ExpiresAt: expires}
	for _, it := range items {
		req.PolicyItemIDs = append(req.PolicyItemIDs, it.ID)
	}
	snap, err := sc.Taker.TakeSnapshot(ctx, c.ProjectID, c.Name, req)
	if err != nil {
		// Released, the instant can be taken at a later tick, here or by
		// another server.
		if rerr := svc.Store.Write(context.WithoutCancel(ctx), func(tx snapexport.Tx) error {
			return tx.ReleaseScheduledSnapshot(ctx, c.ID, at)
		}); rerr != nil {
			svc.logger().Warn("scheduled snapshot claim kept", "group", c.ProjectID, "cluster", c.Name, "at", at, "error", rerr)
		}
		return nil, err
	}
	svc.logger().Info("scheduled snapshot taken", "group", c.ProjectID, "cluster", c.Name, "snapshot", snap.ID, "at", at,
		"frequencyType", frequency)
	return snap, nil
}

// allClusters lists the clusters of every project.
func (s *Service) allClusters(ctx context.Context) ([]*snapexport.Cluster, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) ([]*snapexport.Cluster, error) {
		projects, err := allProjects(ctx, tx)
		if err != nil {
			return nil, err
		}
		var out []*snapexport.Cluster
		for _, p := range projects {
			cs, _, err := tx.ListClusters(ctx, p.ID, snapexport.Page{})
			if err != nil {
				return nil, err
			}
			out = append(out, cs...)
		}
		return out, nil
	})
}

// exportsSnapshot tells whether a schedule's automatic export takes snap:
// when one of the policy items it was taken for has the export policy's
// frequency (Atlas exports the snapshots of the item with that
// frequency), or, for a snapshot taken for no item, when its own
// frequency is the export policy's.
func exportsSnapshot(sched snapexport.BackupSchedule, snap *snapexport.Snapshot) bool {
	if !sched.AutoExportEnabled || sched.ExportBucketID == "" {
		return false
	}
	if snap.FrequencyType == sched.ExportFrequencyType {
		return true
	}
	return slices.ContainsFunc(sched.PolicyItems, func(it snapexport.PolicyItem) bool {
		return it.FrequencyType == sched.ExportFrequencyType && slices.Contains(snap.PolicyItems, it.ID)
	})
}

// reapplyRetention gives a cluster's scheduled snapshots the retention
// their policy items now have, counted from each one's creation (a
// sharded snapshot's members with it). A snapshot none of whose items is
// left keeps its expiry.
func reapplyRetention(ctx context.Context, tx snapexport.Tx, c *snapexport.Cluster, at time.Time) error {
	kind := snapexport.SnapshotReplicaSet
	if c.Type == snapexport.ClusterSharded {
		kind = snapexport.SnapshotShardedCluster
	}
	snaps, _, err := tx.ListSnapshots(ctx, c.ProjectID, c.ID, kind, snapexport.Page{})
	if err != nil {
		return err
	}
	for _, snap := range snaps {
		if snap.SnapshotType != "scheduled" {
			continue
		}
		until, ok := c.Schedule.RetainedUntil(snap.CreatedAt, snap.PolicyItems)
		if !ok || until.Equal(snap.ExpiresAt) {
			continue
		}
		if err := setExpiry(ctx, tx, snap, until, at); err != nil {
			return err
		}
	}
	return nil
}
