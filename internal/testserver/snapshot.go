package testserver

import (
	"context"
	"io"

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

// ImportArchive imports a mongodump archive (gzipped or not) as a completed
// snapshot, as `snapexport snapshot import` does. in names the cluster and,
// for a sharded cluster, the shard and time; its ProjectID defaults to the
// server's project.
func (s *Server) ImportArchive(ctx context.Context, in service.ImportInput, archive io.Reader) (*service.ImportResult, error) {
	if in.ProjectID == "" {
		in.ProjectID = s.GroupID
	}
	src, err := dump.OpenArchive(archive, "archive")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return s.Server.Service.ImportSnapshot(ctx, in, src, nil)
}
