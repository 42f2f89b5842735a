package testserver

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/service"
)

// CreateCluster registers a cluster in the server's project, as
// `snapexport admin cluster create` does: a replica set, or a sharded
// cluster when shards names its replica sets.
func (s *Server) CreateCluster(ctx context.Context, name string, shards ...string) (*snapexport.Cluster, error) {
	return s.Server.Service.CreateCluster(ctx, service.ClusterInput{ProjectID: s.GroupID, Name: name, Shards: shards})
}

// BindCluster binds a cluster of the server's project to the running
// MongoDB at uri, as `snapexport admin cluster update --mongodb-uri` does:
// its snapshots then read that deployment with the consistency given
// (point in time when empty).
func (s *Server) BindCluster(ctx context.Context, name, uri string, consistency snapexport.Consistency) (*snapexport.Cluster, error) {
	return s.Server.Service.BindCluster(ctx, s.GroupID, name, &service.DeploymentInput{URI: uri, Consistency: consistency})
}

// ImportArchive imports a mongodump archive (gzipped or not) as a completed
// snapshot, as `snapexport snapshot import` does. in names the cluster and,
// for a sharded cluster, the shard and time; its ProjectID defaults to the
// server's project.
func (s *Server) ImportArchive(ctx context.Context, in service.ImportInput, archive io.Reader) (*service.ImportResult, error) {
	if in.ProjectID == "" {
		in.ProjectID = s.GroupID
	}
	return fromArchive(archive, func(src dump.Source) (*service.ImportResult, error) {
		return s.Server.Service.ImportSnapshot(ctx, in, src, nil)
	})
}

// fromArchive hands use the dump archive reads.
func fromArchive[T any](archive io.Reader, use func(dump.Source) (T, error)) (T, error) {
	src, err := dump.OpenArchive(archive, "archive")
	if err != nil {
		var zero T
		return zero, err
	}
	defer src.Close()
	return use(src)
}

// LoadCluster makes a mongodump archive (gzipped or not) the current data
// of a cluster, or of one shard of it, as `snapexport admin cluster load`
// does; its ProjectID defaults to the server's project.
func (s *Server) LoadCluster(ctx context.Context, in service.LoadInput, archive io.Reader) (*service.LoadResult, error) {
	if in.ProjectID == "" {
		in.ProjectID = s.GroupID
	}
	return fromArchive(archive, func(src dump.Source) (*service.LoadResult, error) {
		return s.Server.Service.LoadClusterData(ctx, in, src, nil)
	})
}

// StoreSnapshot writes a completed snapshot of c straight into the
// server's store, as an import leaves it but without its data, for tests
// of the API that read no documents. Fields of snap that are set override
// the defaults: a replica-set snapshot of c's first shard, on demand,
// taken now and expiring a day later.
func (s *Server) StoreSnapshot(tb testing.TB, c *snapexport.Cluster, snap snapexport.Snapshot) *snapexport.Snapshot {
	tb.Helper()
	ctx := context.Background()
	if snap.ID == "" {
		snap.ID = service.NewID()
	}
	snap.ProjectID, snap.ClusterID, snap.ClusterName = c.ProjectID, c.ID, c.Name
	if snap.Kind == "" {
		snap.Kind = snapexport.SnapshotReplicaSet
	}
	if snap.ReplicaSetName == "" && snap.Kind == snapexport.SnapshotReplicaSet {
		snap.ReplicaSetName = c.Shards[0].ReplicaSetName
	}
	if snap.SnapshotType == "" {
		snap.SnapshotType, snap.FrequencyType = "onDemand", "ondemand"
	}
	if snap.Status == "" {
		snap.Status = snapexport.SnapshotCompleted
	}
	if snap.MongodVersion == "" {
		snap.MongodVersion = c.MongoDBVersion
	}
	if snap.CloudProvider == "" {
		snap.CloudProvider = snapexport.AWS
	}
	if snap.CreatedAt.IsZero() {
		snap.CreatedAt = time.Now().UTC().Truncate(time.Second)
	}
	if snap.ExpiresAt.IsZero() {
		snap.ExpiresAt = snap.CreatedAt.Add(24 * time.Hour)
	}
	if snap.ImportedAt.IsZero() {
		snap.ImportedAt = snap.CreatedAt
	}
	if err := s.Server.Store.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateSnapshot(ctx, &snap) }); err != nil {
		tb.Fatal(err)
	}
	return &snap
}

// SnapshotStored reports whether the server's store still holds a
// snapshot of c.
func (s *Server) SnapshotStored(tb testing.TB, c *snapexport.Cluster, id string) bool {
	tb.Helper()
	ctx := context.Background()
	err := s.Server.Store.Read(ctx, func(tx snapexport.Tx) error {
		_, err := tx.Snapshot(ctx, c.ProjectID, c.ID, id)
		return err
	})
	if err != nil && !errors.Is(err, snapexport.ErrNotFound) {
		tb.Fatal(err)
	}
	return err == nil
}
