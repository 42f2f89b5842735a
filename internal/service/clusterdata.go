package service

import (
	"context"
	"errors"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// LoadInput names the cluster, and for a sharded cluster the shard, whose
// data a dump becomes.
type LoadInput struct {
	ProjectID   string
	ClusterName string
	// Shard is the replica set the dump is loaded into: required for a
	// sharded cluster, optional (and then checked) for a replica-set
	// cluster.
	Shard string
}

// LoadResult is a finished load: the cluster's (or shard's) data now.
type LoadResult struct {
	ProjectID      string
	ClusterName    string
	ReplicaSetName string
	Collections    []snapexport.SnapshotCollection
	Size           int64
	LoadedAt       time.Time
	Notes          []string
}

// LoadClusterData makes a mongodump output the current data of a cluster
// (of one shard of a sharded cluster), which the snapshots taken from then
// on copy. The data is replaced as a whole once the dump has been read;
// on any failure the previous data stays. Bad input fails as in
// ImportSnapshot: GROUP_NOT_FOUND, CLUSTER_NOT_FOUND,
// INVALID_SNAPSHOT_IMPORT (the shard), or INVALID_DUMP.
func (s *Service) LoadClusterData(ctx context.Context, in LoadInput, src dump.Source, progress func(snapshotstore.Progress)) (*LoadResult, error) {
	if s.SnapshotData == nil {
		return nil, errors.New("no snapshot store is configured")
	}
	var c *snapexport.Cluster
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		var err error
		if c, err = s.projectCluster(ctx, tx, in.ProjectID, in.ClusterName); err != nil {
			return err
		}
		in.Shard, err = checkShard(c, in.Shard)
		return err
	})
	if err != nil {
		return nil, err
	}
	m, err := s.SnapshotData.Load(ctx, clusterData(c, in.Shard), src, progress)
	if err != nil {
		return nil, InvalidDump(err)
	}
	return &LoadResult{ProjectID: c.ProjectID, ClusterName: c.Name, ReplicaSetName: in.Shard, Collections: m.Collections(),
		Size: m.Size(), LoadedAt: s.now(), Notes: append(src.Notes(), m.Notes...)}, nil
}

// projectCluster reads a cluster of a project: GROUP_NOT_FOUND when the
// project does not exist, CLUSTER_NOT_FOUND when the cluster does not.
func (s *Service) projectCluster(ctx context.Context, tx snapexport.Tx, projectID, name string) (*snapexport.Cluster, error) {
	if _, err := tx.Project(ctx, projectID); err != nil {
		if errors.Is(err, snapexport.ErrNotFound) {
			return nil, groupNotFound(projectID)
		}
		return nil, err
	}
	return s.cluster(ctx, tx, projectID, name)
}

// clusterData is where the data of the replica set rs of c is kept.
func clusterData(c *snapexport.Cluster, rs string) snapshotstore.DataLocation {
	return snapshotstore.DataLocation{ProjectID: c.ProjectID, ClusterID: c.ID, ReplicaSetName: rs}
}

// checkShard returns the replica set of c that shard names: the only one
// of a replica-set cluster when shard is empty.
func checkShard(c *snapexport.Cluster, shard string) (string, error) {
	if c.Type != snapexport.ClusterSharded {
		rs := c.Shards[0].ReplicaSetName
		if shard != "" && shard != rs {
			return "", invalidImport("cluster %s is a replica set named %s, not %s", c.Name, rs, shard)
		}
		return rs, nil
	}
	var names []string
	for _, sh := range c.Shards {
		if sh.ReplicaSetName == shard {
			return shard, nil
		}
		names = append(names, sh.ReplicaSetName)
	}
	if shard == "" {
		return "", invalidImport("cluster %s is sharded: name the shard the dump comes from (one of %v)", c.Name, names)
	}
	return "", invalidImport("cluster %s has no shard %s (its shards are %v)", c.Name, shard, names)
}
