package server

import (
	"context"
	"errors"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

// replayingTaker takes a cluster's snapshot by recording, as completed, a
// new snapshot that describes the cluster's latest completed snapshot
// (its collections, size and MongoDB version), or an empty one when it has
// none. It copies no data: exporting such a snapshot fails for want of
// it. A sharded cluster's snapshot gets one member per shard.
type replayingTaker struct{ svc *service.Service }

func (t replayingTaker) TakeSnapshot(ctx context.Context, projectID, clusterName string, req service.SnapshotRequest) (*snapexport.Snapshot, error) {
	now := t.svc.Time()
	return snapexport.WriteValue(ctx, t.svc.Store, func(tx snapexport.Tx) (*snapexport.Snapshot, error) {
		c, err := tx.Cluster(ctx, projectID, clusterName)
		if err != nil {
			return nil, err
		}
		snap := &snapexport.Snapshot{ID: service.NewID(), ProjectID: c.ProjectID, ClusterID: c.ID, ClusterName: c.Name,
			Kind: snapexport.SnapshotReplicaSet, Description: req.Description, SnapshotType: req.SnapshotType,
			FrequencyType: req.FrequencyType, PolicyItems: req.PolicyItemIDs, Status: snapexport.SnapshotCompleted,
			MongodVersion: c.MongoDBVersion, CloudProvider: snapexport.AWS, CreatedAt: now, ExpiresAt: req.ExpiresAt, ImportedAt: now}
		if c.Type != snapexport.ClusterSharded {
			snap.ReplicaSetName = c.Shards[0].ReplicaSetName
			if err := describeLatest(ctx, tx, c, snap.ReplicaSetName, snap); err != nil {
				return nil, err
			}
			return snap, tx.CreateSnapshot(ctx, snap)
		}
		snap.Kind = snapexport.SnapshotShardedCluster
		for _, sh := range c.Shards {
			member := *snap
			member.ID, member.Kind, member.ParentID, member.ReplicaSetName = service.NewID(), snapexport.SnapshotReplicaSet, snap.ID, sh.ReplicaSetName
			if err := describeLatest(ctx, tx, c, sh.ReplicaSetName, &member); err != nil {
				return nil, err
			}
			if err := tx.CreateSnapshot(ctx, &member); err != nil {
				return nil, err
			}
			snap.Members = append(snap.Members, snapexport.SnapshotMember{ID: member.ID, ReplicaSetName: sh.ReplicaSetName})
			snap.StorageSizeBytes += member.StorageSizeBytes
		}
		return snap, tx.CreateSnapshot(ctx, snap)
	})
}

// describeLatest copies into snap the description of the data of the
// latest completed snapshot of replica set rs of cluster c, if any.
func describeLatest(ctx context.Context, tx snapexport.Tx, c *snapexport.Cluster, rs string, snap *snapexport.Snapshot) error {
	kind := snapexport.SnapshotReplicaSet
	if c.Type == snapexport.ClusterSharded {
		kind = snapexport.SnapshotShardedCluster
	}
	all, _, err := tx.ListSnapshots(ctx, c.ProjectID, c.ID, kind, snapexport.Page{})
	if err != nil {
		return err
	}
	var latest *snapexport.Snapshot
	for _, s := range all {
		candidates := []*snapexport.Snapshot{s}
		if kind == snapexport.SnapshotShardedCluster {
			candidates = nil
			for _, m := range s.Members {
				if m.ReplicaSetName != rs {
					continue
				}
				member, err := tx.Snapshot(ctx, c.ProjectID, c.ID, m.ID)
				if errors.Is(err, snapexport.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				candidates = append(candidates, member)
			}
		}
		for _, cand := range candidates {
			if cand.Status == snapexport.SnapshotCompleted && cand.ReplicaSetName == rs && (latest == nil || cand.CreatedAt.After(latest.CreatedAt)) {
				latest = cand
			}
		}
	}
	if latest != nil {
		snap.Collections, snap.StorageSizeBytes, snap.MongodVersion = latest.Collections, latest.StorageSizeBytes, latest.MongodVersion
	}
	return nil
}
