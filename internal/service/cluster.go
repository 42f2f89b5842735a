package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/snapexport/snapexport"
)

// DefaultMongoDBVersion is the version of clusters registered without one.
const DefaultMongoDBVersion = "8.0.0"

func clusterNotFound(name, projectID string) error {
	return snapexport.Errorf(snapexport.CodeClusterNotFound, "No cluster named %s exists in group %s.", name, projectID)
}

// Where a cluster registered without saying runs: Atlas's defaults for a
// new dedicated cluster (its recorded cluster bodies).
const (
	DefaultClusterProvider     = snapexport.AWS
	DefaultClusterRegion       = "US_EAST_1"
	DefaultClusterInstanceSize = "M10"
)

// ClusterInput registers a cluster: a replica set when Shards is empty, a
// sharded cluster with one shard per replica-set name otherwise. Provider,
// Region and InstanceSize default to DefaultCluster*.
type ClusterInput struct {
	ProjectID      string
	Name           string
	Shards         []string
	MongoDBVersion string
	Provider       snapexport.CloudProvider
	Region         string
	InstanceSize   string
	Labels         []snapexport.Label
}

var replicaSetNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// CreateCluster registers a cluster of a project (an operator action:
// errors are plain and name the bad value).
func (s *Service) CreateCluster(ctx context.Context, in ClusterInput) (*snapexport.Cluster, error) {
	if !snapexport.ValidClusterName(in.Name) {
		return nil, fmt.Errorf("cluster name %q must be 1 to 64 letters, digits and hyphens, starting with a letter or digit", in.Name)
	}
	if in.MongoDBVersion == "" {
		in.MongoDBVersion = DefaultMongoDBVersion
	}
	if snapexport.MongoDBMajorVersion(in.MongoDBVersion) == "" {
		return nil, fmt.Errorf("MongoDB version %q is not of the form 8.0.4", in.MongoDBVersion)
	}
	now := s.now()
	in.Provider = cmp.Or(in.Provider, DefaultClusterProvider)
	in.Region = cmp.Or(in.Region, DefaultClusterRegion)
	in.InstanceSize = cmp.Or(in.InstanceSize, DefaultClusterInstanceSize)
	if !slices.Contains(snapexport.CloudProviders, in.Provider) {
		return nil, fmt.Errorf("provider %q is not one of %v", in.Provider, snapexport.CloudProviders)
	}
	if !snapexport.ValidRegionName(in.Region) {
		return nil, fmt.Errorf("region %q is not spelled as Atlas names regions (upper-case words joined by underscores, e.g. US_EAST_1)", in.Region)
	}
	if !snapexport.ValidInstanceSize(in.InstanceSize) {
		return nil, fmt.Errorf("instance size %q is not a dedicated Atlas tier (M10 or larger, e.g. M10, M30, R40, M40_NVME)", in.InstanceSize)
	}
	c := &snapexport.Cluster{ID: NewID(), ProjectID: in.ProjectID, Name: in.Name, Type: snapexport.ClusterReplicaSet,
		MongoDBVersion: in.MongoDBVersion, Provider: in.Provider, Region: in.Region, InstanceSize: in.InstanceSize, CreatedAt: now,
		Schedule: newBackupSchedule(now)}
	names := in.Shards
	if len(names) == 0 {
		names = []string{in.Name + "-shard-0"}
	} else {
		c.Type = snapexport.ClusterSharded
	}
	for i, n := range names {
		if len(n) > 128 || !replicaSetNamePattern.MatchString(n) {
			return nil, fmt.Errorf("shard replica-set name %q must be letters, digits, '.', '_' and '-', starting with a letter or digit", n)
		}
		if slices.Contains(names[:i], n) {
			return nil, fmt.Errorf("shard replica-set name %q is given twice", n)
		}
		c.Shards = append(c.Shards, snapexport.Shard{ID: NewID(), ReplicaSetName: n})
	}
	for _, l := range in.Labels {
		if strings.TrimSpace(l.Key) == "" {
			return nil, fmt.Errorf("label %q=%q has an empty key", l.Key, l.Value)
		}
	}
	if len(in.Labels) > 0 {
		c.Labels = slices.Clone(in.Labels)
	}
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		if _, err := tx.Project(ctx, in.ProjectID); err != nil {
			return notFoundAs(err, "project %s does not exist", in.ProjectID)
		}
		err := tx.CreateCluster(ctx, c)
		if errors.Is(err, snapexport.ErrConflict) {
			return fmt.Errorf("project %s already has a cluster named %s", in.ProjectID, in.Name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Clusters lists a project's clusters.
func (s *Service) Clusters(ctx context.Context, projectID string, page snapexport.Page) ([]*snapexport.Cluster, int, error) {
	var out []*snapexport.Cluster
	var total int
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		var err error
		out, total, err = tx.ListClusters(ctx, projectID, page)
		return err
	})
	return out, total, err
}

// Cluster returns one cluster or CLUSTER_NOT_FOUND.
func (s *Service) Cluster(ctx context.Context, projectID, name string) (*snapexport.Cluster, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) (*snapexport.Cluster, error) {
		return s.cluster(ctx, tx, projectID, name)
	})
}

// releaseBucket prepares the deletion of a bucket: it fails while an
// export job writes to the bucket or a cluster's schedule auto-exports to
// it, and otherwise removes the export policy of the schedules that still
// name it, as clients (Terraform) wait for no schedule to name a deleted
// bucket.
func releaseBucket(ctx context.Context, tx snapexport.Tx, projectID, bucketID string) error {
	active, err := tx.ActiveExportJobs(ctx, projectID, "", bucketID)
	if err != nil {
		return err
	}
	if len(active) > 0 {
		return snapexport.Errorf(snapexport.CodeExportBucketInUse,
			"Export bucket %s cannot be deleted: export job %s is writing to it.", bucketID, active[0].ID)
	}
	clusters, err := tx.ClustersExportingTo(ctx, projectID, bucketID)
	if err != nil {
		return err
	}
	for _, c := range clusters {
		if c.Schedule.AutoExportEnabled {
			return snapexport.Errorf(snapexport.CodeExportBucketInUse,
				"Export bucket %s cannot be deleted: the backup schedule of cluster %s exports to it automatically.", bucketID, c.Name)
		}
	}
	for _, c := range clusters {
		c.Schedule.ExportBucketID, c.Schedule.ExportFrequencyType = "", ""
		if err := tx.UpdateClusterSchedule(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// cluster finds a project's cluster by name, or CLUSTER_NOT_FOUND.
func (s *Service) cluster(ctx context.Context, tx snapexport.Tx, projectID, name string) (*snapexport.Cluster, error) {
	c, err := tx.Cluster(ctx, projectID, name)
	if errors.Is(err, snapexport.ErrNotFound) {
		return nil, clusterNotFound(name, projectID)
	}
	return c, err
}

// ClusterCounts counts the clusters of each of the given projects.
func (s *Service) ClusterCounts(ctx context.Context, projectIDs []string) (map[string]int, error) {
	counts := make(map[string]int, len(projectIDs))
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		for _, id := range projectIDs {
			// One item is read: the count is what is wanted.
			_, total, err := tx.ListClusters(ctx, id, snapexport.Page{Limit: 1})
			if err != nil {
				return err
			}
			counts[id] = total
		}
		return nil
	})
	return counts, err
}
