package api

import (
	"context"

	"github.com/snapexport/snapexport/internal/dump"
	"github.com/snapexport/snapexport/internal/service"
)

// LoadView is a finished load of a cluster's data, as `snapexport admin
// cluster load --json` prints it and the load endpoint answers it.
type LoadView struct {
	ClusterName      string                 `json:"clusterName"`
	Collections      []ImportCollectionView `json:"collections"`
	Documents        int64                  `json:"documents"`
	GroupID          string                 `json:"groupId"`
	LoadedAt         string                 `json:"loadedAt"`
	Notes            []string               `json:"notes"`
	ReplicaSetName   string                 `json:"replicaSetName"`
	StorageSizeBytes int64                  `json:"storageSizeBytes"`
}

// NewLoadView describes a load's result.
func NewLoadView(res *service.LoadResult) LoadView {
	v := LoadView{ClusterName: res.ClusterName, GroupID: res.ProjectID, LoadedAt: formatTime(res.LoadedAt), Notes: res.Notes,
		ReplicaSetName: res.ReplicaSetName, StorageSizeBytes: res.Size}
	v.Collections, v.Documents = collectionViews(res.Collections)
	if v.Notes == nil {
		v.Notes = []string{}
	}
	return v
}

// loadClusterData makes the request body, a mongodump archive, the
// current data of the path's cluster, or of the shard the query names
// (shard): snapexport's own operation, with the upload's limits.
func loadClusterData(c *call) (*response, error) {
	name, err := c.clusterName()
	if err != nil {
		return nil, err
	}
	in := service.LoadInput{ProjectID: c.project.ID, ClusterName: name, Shard: c.r.URL.Query().Get("shard")}
	return readUpload(c, func(ctx context.Context, src dump.Source) (*response, error) {
		res, err := c.srv.Service.LoadClusterData(ctx, in, src, nil)
		if err != nil {
			return nil, err
		}
		return ok(NewLoadView(res))
	})
}
