package snapexport

import (
	"regexp"
	"strconv"
	"time"
)

// Cluster types Atlas reports in clusterType.
type ClusterType string

const (
	ClusterReplicaSet ClusterType = "REPLICASET"
	ClusterSharded    ClusterType = "SHARDED"
)

// Label is a key/value pair on a cluster (Atlas's labels and tags).
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Shard is one replica set of a cluster: the only one of a replica set,
// one per shard of a sharded cluster.
type Shard struct {
	ID             string `json:"id"`
	ReplicaSetName string `json:"replicaSetName"`
}

// Cluster is a MongoDB deployment registered by an operator or through
// Atlas's API, whose snapshots the service exports. Labels, Tags and
// Shards are nil when empty.
type Cluster struct {
	ID             string
	ProjectID      string
	Name           string
	Type           ClusterType
	MongoDBVersion string
	// Provider, Region and InstanceSize are where the operator says the
	// cluster runs, as Atlas's region configuration names them (AWS,
	// US_EAST_1, M10): the service reports them and runs nothing there.
	Provider     CloudProvider
	Region       string
	InstanceSize string
	Labels       []Label
	Tags         []Label
	Shards       []Shard
	CreatedAt    time.Time
	Schedule     BackupSchedule

	BackupEnabled                bool
	TerminationProtectionEnabled bool
	// ReadyAt is when the cluster's last change (its creation, a new
	// MongoDB version) is applied: until then Atlas would show it CREATING
	// or UPDATING. States are computed from the clock, never stored.
	ReadyAt time.Time
	// DeletingUntil is set once the cluster is asked to be deleted: it
	// shows DELETING until then and is gone after. RetainBackups keeps its
	// snapshots once it is gone.
	DeletingUntil *time.Time
	RetainBackups bool
	// Removed marks a cluster whose deletion has ended: it is no longer
	// found by name or listed, and its name is free; it is kept for the
	// snapshots it retained.
	Removed bool
	// Deployment is the running MongoDB the cluster is bound to; nil when
	// it is bound to none.
	Deployment *Deployment
}

// Consistency is how a snapshot of a bound deployment reads its data.
type Consistency string

const (
	// ConsistencyPointInTime reads every collection at one instant, with
	// the snapshot reads the deployment supports.
	ConsistencyPointInTime Consistency = "pointInTime"
	// ConsistencyNone reads each collection as it is when it is read, for
	// deployments without snapshot reads.
	ConsistencyNone Consistency = "none"
)

// Consistencies are the valid values of Deployment.Consistency.
var Consistencies = []Consistency{ConsistencyNone, ConsistencyPointInTime}

// Deployment binds a cluster to a running MongoDB. Its connection string
// carries credentials, so it is kept sealed with the server's secret key:
// only the service, which holds the key, opens it.
type Deployment struct {
	// SealedURI is the connection string, sealed for this cluster.
	SealedURI []byte
	// PublicURI is the connection string without credentials or options
	// that hold secrets, fit to show.
	PublicURI string
	// Hosts are the host:port pairs of the connection string (the one
	// host name of a mongodb+srv URI).
	Hosts       []string
	Consistency Consistency
}

// Atlas's names of the states a cluster is shown in (stateName).
const (
	ClusterCreating = "CREATING"
	ClusterIdle     = "IDLE"
	ClusterDeleting = "DELETING"
)

// StateName is the state the cluster is in at now: DELETING once asked to
// be deleted, CREATING until it is ready, IDLE after.
func (c *Cluster) StateName(now time.Time) string {
	switch {
	case c.DeletingUntil != nil:
		return ClusterDeleting
	case now.Before(c.ReadyAt):
		return ClusterCreating
	}
	return ClusterIdle
}

// ChangesApplied reports whether the cluster has no change under way at
// now (Atlas's changeStatus APPLIED rather than PENDING).
func (c *Cluster) ChangesApplied(now time.Time) bool {
	return c.StateName(now) == ClusterIdle
}

// Deleted reports whether the cluster's deletion has ended at now.
func (c *Cluster) Deleted(now time.Time) bool {
	return c.Removed || c.DeletingUntil != nil && !now.Before(*c.DeletingUntil)
}

var clusterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)

// ValidClusterName reports whether name follows Atlas's pattern for
// cluster names (at most 64 characters).
func ValidClusterName(name string) bool {
	return len(name) <= 64 && clusterNamePattern.MatchString(name)
}

var mongoDBVersionPattern = regexp.MustCompile(`^([0-9]+)\.([0-9]+)\.[0-9]+$`)

// MongoDBMajorVersion is the major.minor of a full version (8.0.29 → 8.0),
// empty when v is not of the form x.y.z.
func MongoDBMajorVersion(v string) string {
	m := mongoDBVersionPattern.FindStringSubmatch(v)
	if m == nil {
		return ""
	}
	return m[1] + "." + m[2]
}

var regionNamePattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)

// ValidRegionName reports whether name is spelled as Atlas spells regions
// in a cluster's region configuration: upper-case words and numbers joined
// by underscores (US_EAST_1, EUROPE_WEST_3, WESTERN_EUROPE), at most 64
// characters. Whether the provider has the region is not checked.
func ValidRegionName(name string) bool {
	return len(name) <= 64 && regionNamePattern.MatchString(name)
}

var instanceSizePattern = regexp.MustCompile(`^([MR])([0-9]+)(_NVME|_LOW_CPU)?$`)

// ValidInstanceSize reports whether size names a dedicated cluster tier
// the way Atlas does (M10, M30, R40, M40_NVME, M50_LOW_CPU): only
// dedicated tiers, M10 and above, have Cloud Backup exports.
func ValidInstanceSize(size string) bool {
	m := instanceSizePattern.FindStringSubmatch(size)
	if m == nil || m[2][0] == '0' {
		return false
	}
	n, err := strconv.Atoi(m[2])
	return err == nil && n >= 10
}
