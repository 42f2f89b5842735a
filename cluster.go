package snapexport

import (
	"regexp"
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

// Cluster is a MongoDB deployment registered by an operator, whose
// snapshots the service exports. Labels and Shards are nil when empty.
type Cluster struct {
	ID             string
	ProjectID      string
	Name           string
	Type           ClusterType
	MongoDBVersion string
	Labels         []Label
	Shards         []Shard
	CreatedAt      time.Time
	Schedule       BackupSchedule
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
