package service

import (
	"cmp"
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/snapshotstore"
)

// DefaultMongoDBVersion is the version of clusters created without one.
const DefaultMongoDBVersion = "8.0.0"

// DefaultMongoDBMajorVersion is the major version of clusters created
// without one, which the API tells clients (8.0).
var DefaultMongoDBMajorVersion = snapexport.MongoDBMajorVersion(DefaultMongoDBVersion)

// MongoDBMajorVersions are the major versions a cluster may be created
// with or upgraded to through the API: those Atlas offers new dedicated
// clusters.
var MongoDBMajorVersions = []string{"6.0", "7.0", "8.0"}

// MaxShards bounds the shards of a sharded cluster, as Atlas does.
const MaxShards = 70

func clusterNotFound(name, projectID string) error {
	return snapexport.Errorf(snapexport.CodeClusterNotFound, "No cluster named %s exists in group %s.", name, projectID)
}

// ClusterInvalid is the VALIDATION_ERROR of a cluster Atlas would create
// or run but this service cannot, or of a malformed value.
func ClusterInvalid(format string, params ...string) error {
	return snapexport.Errorf(snapexport.CodeValidationError, "The request content produced the validation error: "+format, params...)
}

func invalidEnumValue(value string) error {
	return snapexport.Errorf(snapexport.CodeInvalidEnumValue, "An invalid enumeration value %s was specified.", value)
}

// Where a cluster created without saying runs: Atlas's defaults for a new
// dedicated cluster (its recorded cluster bodies).
const (
	DefaultClusterProvider     = snapexport.AWS
	DefaultClusterRegion       = "US_EAST_1"
	DefaultClusterInstanceSize = "M10"
)

// ClusterInput creates a cluster: a replica set when Type is empty and
// Shards is empty; a sharded cluster with one shard per replica-set name
// of Shards, or of ShardCount shards named as Atlas names them
// (<name>-shard-<n>) when Shards is empty. MongoDBVersion (x.y.z) or
// MongoDBMajorVersion (x.y, one of MongoDBMajorVersions) choose the
// version, DefaultMongoDBVersion when neither is given. Provider, Region
// and InstanceSize default to DefaultCluster*. Backups are enabled unless
// BackupEnabled says otherwise.
type ClusterInput struct {
	ProjectID           string
	Name                string
	Type                snapexport.ClusterType
	Shards              []string
	ShardCount          int
	MongoDBVersion      string
	MongoDBMajorVersion string
	Provider            snapexport.CloudProvider
	Region              string
	InstanceSize        string
	Labels              []snapexport.Label
	Tags                []snapexport.Label
	BackupEnabled       *bool
	// TerminationProtectionEnabled refuses the cluster's deletion until it
	// is turned off.
	TerminationProtectionEnabled bool
	// Deployment binds the cluster to a running MongoDB; nil for none.
	Deployment *DeploymentInput
}

var replicaSetNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// clusterChangeDelay is Service.ClusterChangeDelay, never negative.
func (s *Service) clusterChangeDelay() time.Duration { return max(s.ClusterChangeDelay, 0) }

// CreateCluster creates a cluster of a project, for the API and the admin
// command alike: it shows CREATING for ClusterChangeDelay, then IDLE, and
// gets the default backup schedule. Errors are Atlas's and name the value
// at fault.
func (s *Service) CreateCluster(ctx context.Context, in ClusterInput) (*snapexport.Cluster, error) {
	c, err := s.newCluster(in)
	if err != nil {
		return nil, err
	}
	if in.Deployment != nil {
		if c.Deployment, err = s.newDeployment(c.ID, *in.Deployment); err != nil {
			return nil, err
		}
	}
	err = s.Store.Write(ctx, func(tx snapexport.Tx) error {
		if _, err := tx.Project(ctx, in.ProjectID); err != nil {
			return notFoundAs(err, "project %s does not exist", in.ProjectID)
		}
		// A cluster whose deletion has ended gives its name up now.
		if old, err := tx.Cluster(ctx, in.ProjectID, in.Name); err == nil && old.Deleted(c.CreatedAt) {
			old.Removed = true
			if err := tx.UpdateCluster(ctx, old); err != nil {
				return err
			}
		} else if err != nil && !errors.Is(err, snapexport.ErrNotFound) {
			return err
		}
		err := tx.CreateCluster(ctx, c)
		if errors.Is(err, snapexport.ErrConflict) {
			return snapexport.Errorf(snapexport.CodeDuplicateClusterName, "A cluster named %s is already present in group %s.", in.Name, in.ProjectID)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// newCluster checks in and makes the cluster it describes.
func (s *Service) newCluster(in ClusterInput) (*snapexport.Cluster, error) {
	if !snapexport.ValidClusterName(in.Name) {
		return nil, ClusterInvalid(`cluster name "%s" must be 1 to 64 letters, digits and hyphens, starting with a letter or digit.`, in.Name)
	}
	version, err := mongoDBVersion(in.MongoDBVersion, in.MongoDBMajorVersion)
	if err != nil {
		return nil, err
	}
	in.Provider = cmp.Or(in.Provider, DefaultClusterProvider)
	in.Region = cmp.Or(in.Region, DefaultClusterRegion)
	in.InstanceSize = cmp.Or(in.InstanceSize, DefaultClusterInstanceSize)
	if !slices.Contains(snapexport.CloudProviders, in.Provider) {
		return nil, snapexport.Errorf(snapexport.CodeInvalidProvider, "No provider %s exists.", string(in.Provider))
	}
	if !snapexport.ValidRegionName(in.Region) {
		return nil, snapexport.Errorf(snapexport.CodeInvalidRegion, "No region %s exists for provider %s.", in.Region, string(in.Provider))
	}
	if !snapexport.ValidInstanceSize(in.InstanceSize) {
		return nil, invalidEnumValue(in.InstanceSize)
	}
	names, err := shardNames(in)
	if err != nil {
		return nil, err
	}
	for _, labels := range [][]snapexport.Label{in.Labels, in.Tags} {
		for _, l := range labels {
			if strings.TrimSpace(l.Key) == "" {
				return nil, ClusterInvalid(`label or tag "%s"="%s" has an empty key.`, l.Key, l.Value)
			}
		}
	}
	now := s.now()
	c := &snapexport.Cluster{ID: NewID(), ProjectID: in.ProjectID, Name: in.Name, Type: snapexport.ClusterReplicaSet,
		MongoDBVersion: version, Provider: in.Provider, Region: in.Region, InstanceSize: in.InstanceSize, CreatedAt: now,
		Schedule: newBackupSchedule(now), BackupEnabled: in.BackupEnabled == nil || *in.BackupEnabled,
		TerminationProtectionEnabled: in.TerminationProtectionEnabled, ReadyAt: now.Add(s.clusterChangeDelay())}
	if in.Type == snapexport.ClusterSharded || len(in.Shards) > 0 {
		c.Type = snapexport.ClusterSharded
	}
	for _, n := range names {
		c.Shards = append(c.Shards, snapexport.Shard{ID: NewID(), ReplicaSetName: n})
	}
	if len(in.Labels) > 0 {
		c.Labels = slices.Clone(in.Labels)
	}
	if len(in.Tags) > 0 {
		c.Tags = slices.Clone(in.Tags)
	}
	return c, nil
}

// mongoDBVersion is the full version a cluster is created with.
func mongoDBVersion(version, major string) (string, error) {
	switch {
	case version != "":
		if snapexport.MongoDBMajorVersion(version) == "" {
			return "", ClusterInvalid("MongoDB version %s is not of the form 8.0.4.", version)
		}
		if major != "" && snapexport.MongoDBMajorVersion(version) != major {
			return "", ClusterInvalid("MongoDB version %s is not of the major version %s.", version, major)
		}
		return version, nil
	case major != "":
		if !slices.Contains(MongoDBMajorVersions, major) {
			return "", invalidEnumValue(major)
		}
		return major + ".0", nil
	}
	return DefaultMongoDBVersion, nil
}

// shardNames are the replica-set names of the cluster's shards.
func shardNames(in ClusterInput) ([]string, error) {
	switch in.Type {
	case "", snapexport.ClusterReplicaSet, snapexport.ClusterSharded:
	default:
		return nil, invalidEnumValue(string(in.Type))
	}
	if in.Type == snapexport.ClusterReplicaSet && (len(in.Shards) > 0 || in.ShardCount > 1) {
		return nil, ClusterInvalid("a REPLICASET cluster has one shard, not %s.", strconv.Itoa(max(len(in.Shards), in.ShardCount)))
	}
	names := in.Shards
	switch {
	case len(names) > 0:
	case in.Type == snapexport.ClusterSharded:
		if in.ShardCount < 1 || in.ShardCount > MaxShards {
			return nil, ClusterInvalid("a SHARDED cluster has 1 to %s shards, not %s.", strconv.Itoa(MaxShards), strconv.Itoa(in.ShardCount))
		}
		for i := range in.ShardCount {
			names = append(names, in.Name+"-shard-"+strconv.Itoa(i))
		}
	default:
		names = []string{in.Name + "-shard-0"}
	}
	if len(names) > MaxShards {
		return nil, ClusterInvalid("a SHARDED cluster has 1 to %s shards, not %s.", strconv.Itoa(MaxShards), strconv.Itoa(len(names)))
	}
	for i, n := range names {
		if len(n) > 128 || !replicaSetNamePattern.MatchString(n) {
			return nil, ClusterInvalid(`shard replica-set name "%s" must be letters, digits, '.', '_' and '-', starting with a letter or digit.`, n)
		}
		if slices.Contains(names[:i], n) {
			return nil, ClusterInvalid(`shard replica-set name "%s" is given twice.`, n)
		}
	}
	return names, nil
}

// ClusterChange changes a cluster: the fields given (nil ones stay).
// Type, Provider, Region, InstanceSize and ShardCount are what a client
// sends back of the cluster's description: accepted only when they are
// the cluster's own, as they cannot be changed here.
type ClusterChange struct {
	Labels                       *[]snapexport.Label
	Tags                         *[]snapexport.Label
	BackupEnabled                *bool
	TerminationProtectionEnabled *bool
	MongoDBMajorVersion          *string

	Type         *snapexport.ClusterType
	Provider     *snapexport.CloudProvider
	Region       *string
	InstanceSize *string
	ShardCount   *int
}

// UpdateCluster applies a change to a cluster, at once. The MongoDB major
// version may only be raised.
func (s *Service) UpdateCluster(ctx context.Context, projectID, name string, ch ClusterChange) (*snapexport.Cluster, error) {
	return s.changeCluster(ctx, projectID, name, func(c *snapexport.Cluster) error { return applyClusterChange(c, ch) })
}

// changeCluster changes a cluster not asked to be deleted with change,
// and writes it.
func (s *Service) changeCluster(ctx context.Context, projectID, name string, change func(*snapexport.Cluster) error) (*snapexport.Cluster, error) {
	var c *snapexport.Cluster
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		var err error
		if c, err = s.cluster(ctx, tx, projectID, name); err != nil {
			return err
		}
		if c.DeletingUntil != nil {
			return deletionRequested(c)
		}
		if err := change(c); err != nil {
			return err
		}
		return tx.UpdateCluster(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func deletionRequested(c *snapexport.Cluster) error {
	return snapexport.Errorf(snapexport.CodeClusterAlreadyRequestedDeletion, "Cluster %s has already requested deletion.", c.Name)
}

// applyClusterChange changes c as ch says, or fails naming what cannot be
// changed.
func applyClusterChange(c *snapexport.Cluster, ch ClusterChange) error {
	for _, fixed := range []struct {
		attribute string
		given     *string
		current   string
	}{
		{"clusterType", (*string)(ch.Type), string(c.Type)},
		{"replicationSpecs.regionConfigs.providerName", (*string)(ch.Provider), string(c.Provider)},
		{"replicationSpecs.regionConfigs.regionName", ch.Region, c.Region},
		{"replicationSpecs.regionConfigs.electableSpecs.instanceSize", ch.InstanceSize, c.InstanceSize},
	} {
		if fixed.given != nil && *fixed.given != fixed.current {
			return readOnlyAttribute(fixed.attribute)
		}
	}
	if ch.ShardCount != nil && *ch.ShardCount != len(c.Shards) {
		return readOnlyAttribute("replicationSpecs")
	}
	if v := ch.MongoDBMajorVersion; v != nil && *v != snapexport.MongoDBMajorVersion(c.MongoDBVersion) {
		if !slices.Contains(MongoDBMajorVersions, *v) {
			return invalidEnumValue(*v)
		}
		if majorBefore(*v, snapexport.MongoDBMajorVersion(c.MongoDBVersion)) {
			return ClusterInvalid("the MongoDB major version of cluster %s cannot go down from %s to %s.",
				c.Name, snapexport.MongoDBMajorVersion(c.MongoDBVersion), *v)
		}
		c.MongoDBVersion = *v + ".0"
	}
	for _, labels := range []*[]snapexport.Label{ch.Labels, ch.Tags} {
		if labels == nil {
			continue
		}
		for _, l := range *labels {
			if strings.TrimSpace(l.Key) == "" {
				return ClusterInvalid(`label or tag "%s"="%s" has an empty key.`, l.Key, l.Value)
			}
		}
	}
	if ch.Labels != nil {
		c.Labels = nilIfEmpty(*ch.Labels)
	}
	if ch.Tags != nil {
		c.Tags = nilIfEmpty(*ch.Tags)
	}
	if ch.BackupEnabled != nil {
		c.BackupEnabled = *ch.BackupEnabled
	}
	if ch.TerminationProtectionEnabled != nil {
		c.TerminationProtectionEnabled = *ch.TerminationProtectionEnabled
	}
	return nil
}

func readOnlyAttribute(name string) error {
	return snapexport.Errorf(snapexport.CodeAttributeReadOnly, "The attribute %s is read-only and cannot be changed by the user.", name)
}

func nilIfEmpty(labels []snapexport.Label) []snapexport.Label {
	if len(labels) == 0 {
		return nil
	}
	return slices.Clone(labels)
}

// majorBefore reports whether major version a (x.y) comes before b.
func majorBefore(a, b string) bool {
	parse := func(v string) (int, int) {
		x, y, _ := strings.Cut(v, ".")
		major, _ := strconv.Atoi(x)
		minor, _ := strconv.Atoi(y)
		return major, minor
	}
	am, an := parse(a)
	bm, bn := parse(b)
	return am < bm || am == bm && an < bn
}

// DeleteCluster starts a cluster's deletion: it shows DELETING for
// ClusterChangeDelay, then is gone and its name free. Its snapshots are
// deleted with their data unless retainBackups, in which case they stay
// readable under the cluster's name while no other cluster takes it. The
// deletion is refused while termination protection is on, and while an
// export job of the cluster is queued or running.
func (s *Service) DeleteCluster(ctx context.Context, projectID, name string, retainBackups bool) error {
	var gone []*snapexport.Snapshot
	var deleted *snapexport.Cluster
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		c, err := s.cluster(ctx, tx, projectID, name)
		if err != nil {
			return err
		}
		deleted = c
		if c.DeletingUntil != nil {
			return deletionRequested(c)
		}
		if c.TerminationProtectionEnabled {
			return snapexport.Errorf(snapexport.CodeClusterTerminationProtected,
				"Cluster %s cannot be terminated while termination protection is enabled.", c.Name)
		}
		active, err := tx.ActiveExportJobs(ctx, projectID, "", "")
		if err != nil {
			return err
		}
		for _, j := range active {
			if j.ClusterID == c.ID {
				return snapexport.Errorf(snapexport.CodeSnapshotBeingExported,
					"Cluster %s cannot be deleted while export job %s exports one of its snapshots.", c.Name, j.ID)
			}
		}
		now := s.now()
		if !retainBackups {
			if gone, err = removeClusterSnapshots(ctx, tx, c, now); err != nil {
				return err
			}
		}
		until := now.Add(s.clusterChangeDelay())
		c.DeletingUntil, c.RetainBackups = &until, retainBackups
		c.Removed = c.Deleted(now)
		// Nothing reads a deleted cluster's deployment again: its sealed
		// credentials go with it.
		c.Deployment = nil
		return tx.UpdateCluster(ctx, c)
	})
	if err != nil {
		return err
	}
	s.deleteSnapshotData(ctx, gone)
	s.dropClusterData(ctx, deleted)
	return nil
}

// dropClusterData removes the current data of a deleted cluster's replica
// sets; what cannot be removed is logged, the cluster being gone already.
func (s *Service) dropClusterData(ctx context.Context, c *snapexport.Cluster) {
	if s.SnapshotData == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, sh := range c.Shards {
		d := snapshotstore.DataLocation{ProjectID: c.ProjectID, ClusterID: c.ID, ReplicaSetName: sh.ReplicaSetName}
		if err := s.SnapshotData.DropData(ctx, d); err != nil {
			s.logger().Warn("deleted cluster's data left behind", "group", c.ProjectID, "cluster", c.Name, "replicaSet", sh.ReplicaSetName, "error", err)
		}
	}
}

// removeClusterSnapshots deletes every snapshot of c from the store and
// returns those that held data.
func removeClusterSnapshots(ctx context.Context, tx snapexport.Tx, c *snapexport.Cluster, at time.Time) ([]*snapexport.Snapshot, error) {
	var gone []*snapexport.Snapshot
	// Sharded-cluster snapshots first: each removes its members.
	for _, kind := range []snapexport.SnapshotKind{snapexport.SnapshotShardedCluster, snapexport.SnapshotReplicaSet} {
		snaps, err := clusterSnapshots(ctx, tx, c, kind)
		if err != nil {
			return nil, err
		}
		for _, snap := range snaps {
			g, err := removeSnapshot(ctx, tx, snap, at)
			if err != nil {
				return nil, err
			}
			gone = append(gone, g...)
		}
	}
	return gone, nil
}

// clusterSnapshots lists c's snapshots of each of kinds, in that order.
func clusterSnapshots(ctx context.Context, tx snapexport.Tx, c *snapexport.Cluster, kinds ...snapexport.SnapshotKind) ([]*snapexport.Snapshot, error) {
	var all []*snapexport.Snapshot
	for _, kind := range kinds {
		snaps, _, err := tx.ListSnapshots(ctx, c.ProjectID, c.ID, kind, snapexport.Page{})
		if err != nil {
			return nil, err
		}
		all = append(all, snaps...)
	}
	return all, nil
}

// ClusterChangesApplied reports whether a cluster has no change under way
// (Atlas's cluster status APPLIED, rather than PENDING).
func (s *Service) ClusterChangesApplied(ctx context.Context, projectID, name string) (bool, error) {
	c, err := s.Cluster(ctx, projectID, name)
	if err != nil {
		return false, err
	}
	return c.ChangesApplied(s.now()), nil
}

// Clusters lists a project's clusters. Clusters whose deletion has ended
// are removed first when the page shows one.
func (s *Service) Clusters(ctx context.Context, projectID string, page snapexport.Page) ([]*snapexport.Cluster, int, error) {
	var out []*snapexport.Cluster
	var total int
	read := func(tx snapexport.Tx) error {
		var err error
		out, total, err = tx.ListClusters(ctx, projectID, page)
		return err
	}
	if err := s.Store.Read(ctx, read); err != nil {
		return nil, 0, err
	}
	now := s.now()
	if !slices.ContainsFunc(out, func(c *snapexport.Cluster) bool { return c.Deleted(now) }) {
		return out, total, nil
	}
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		if err := removeDeletedClusters(ctx, tx, projectID, now); err != nil {
			return err
		}
		return read(tx)
	})
	return out, total, err
}

// removeDeletedClusters removes the project's clusters whose deletion has
// ended at now.
func removeDeletedClusters(ctx context.Context, tx snapexport.Tx, projectID string, now time.Time) error {
	all, _, err := tx.ListClusters(ctx, projectID, snapexport.Page{})
	if err != nil {
		return err
	}
	for _, c := range all {
		if c.Deleted(now) {
			c.Removed = true
			if err := tx.UpdateCluster(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
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

// cluster finds a project's cluster by name, or CLUSTER_NOT_FOUND, also
// for one whose deletion has ended.
func (s *Service) cluster(ctx context.Context, tx snapexport.Tx, projectID, name string) (*snapexport.Cluster, error) {
	c, err := tx.Cluster(ctx, projectID, name)
	if errors.Is(err, snapexport.ErrNotFound) || err == nil && c.Deleted(s.now()) {
		return nil, clusterNotFound(name, projectID)
	}
	return c, err
}

// snapshotsCluster finds the cluster whose snapshots a name reaches: the
// project's cluster of that name or, when there is none, the last one of
// that name deleted with its backups retained; else CLUSTER_NOT_FOUND.
func (s *Service) snapshotsCluster(ctx context.Context, tx snapexport.Tx, projectID, name string) (*snapexport.Cluster, error) {
	c, err := tx.Cluster(ctx, projectID, name)
	if errors.Is(err, snapexport.ErrNotFound) {
		c, err = tx.RemovedCluster(ctx, projectID, name)
	}
	if errors.Is(err, snapexport.ErrNotFound) || err == nil && c.Deleted(s.now()) && !c.RetainBackups {
		return nil, clusterNotFound(name, projectID)
	}
	return c, err
}

// SnapshotsCluster is snapshotsCluster in a read of its own.
func (s *Service) SnapshotsCluster(ctx context.Context, projectID, name string) (*snapexport.Cluster, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) (*snapexport.Cluster, error) {
		return s.snapshotsCluster(ctx, tx, projectID, name)
	})
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
