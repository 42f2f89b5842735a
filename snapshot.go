package snapexport

import "time"

// SnapshotKind is a snapshot's type in Atlas's API.
type SnapshotKind string

const (
	// SnapshotReplicaSet holds the data of one replica set: the only one
	// of a replica-set cluster, or one shard of a sharded cluster (then it
	// is a member of a sharded-cluster snapshot).
	SnapshotReplicaSet SnapshotKind = "replicaSet"
	// SnapshotShardedCluster groups one replica-set snapshot per shard,
	// all taken at the same time, and holds no data of its own.
	SnapshotShardedCluster SnapshotKind = "shardedCluster"
)

// SnapshotStatus is a snapshot's status in Atlas's API.
type SnapshotStatus string

const (
	SnapshotQueued     SnapshotStatus = "queued"
	SnapshotInProgress SnapshotStatus = "inProgress"
	SnapshotCompleted  SnapshotStatus = "completed"
	SnapshotFailed     SnapshotStatus = "failed"
)

// Unfinished reports whether the snapshot is still being taken.
func (s SnapshotStatus) Unfinished() bool { return s == SnapshotQueued || s == SnapshotInProgress }

// Snapshot is a Cloud Backup snapshot of a cluster. Its data lives in the
// snapshot store, not in the database. An imported snapshot is stored only
// once all of its data is written; a snapshot taken of a cluster's data is
// stored queued and completed once its data is.
type Snapshot struct {
	ID          string
	ProjectID   string
	ClusterID   string
	ClusterName string
	Kind        SnapshotKind
	// ParentID is the sharded-cluster snapshot a shard's snapshot belongs
	// to; empty for the snapshot of a replica-set cluster and for a shard
	// snapshot whose sibling shards are not all imported yet.
	ParentID string
	// ReplicaSetName is the replica set whose data a replica-set snapshot
	// holds; empty for a sharded-cluster snapshot.
	ReplicaSetName string
	// Members are the shards' snapshots of a sharded-cluster snapshot, in
	// the cluster's shard order; nil otherwise.
	Members       []SnapshotMember
	Description   string
	SnapshotType  string // onDemand, scheduled or fallback
	FrequencyType string // ondemand, hourly, daily, weekly, monthly or yearly
	// PolicyItems are the ids of the backup policy's items a scheduled
	// snapshot was taken for; nil for other snapshots.
	PolicyItems   []string
	Status        SnapshotStatus
	MongodVersion string
	CloudProvider CloudProvider
	// StorageSizeBytes is the size of the documents (of all members for a
	// sharded-cluster snapshot).
	StorageSizeBytes int64
	// CreatedAt is when the snapshot was taken (the dump's time, or when
	// the service started copying the cluster's data), ExpiresAt when the
	// sweeper removes it.
	CreatedAt time.Time
	ExpiresAt time.Time
	// ImportedAt is when the snapshot became complete in the store.
	ImportedAt time.Time
	// Collections lists what a replica-set snapshot holds, in dump order;
	// nil for a sharded-cluster snapshot.
	Collections []SnapshotCollection
	// Consistency is how the snapshot of a cluster bound to a deployment
	// read it; empty for snapshots of imported or loaded data.
	Consistency Consistency
	// Progress is how far the reading of a deployment has gone while the
	// snapshot is being taken, and what it read once it ended; nil when
	// nothing was read from a deployment.
	Progress *SnapshotProgress
	// FailureReason says why a failed snapshot could not be taken.
	FailureReason string
}

// SnapshotProgress counts what a snapshot has read of a deployment.
type SnapshotProgress struct {
	// Collections is how many collections (views included) the
	// deployment has to read, CollectionsStarted how many of them have
	// begun to be read.
	Collections        int   `json:"collections"`
	CollectionsStarted int   `json:"collectionsStarted"`
	Documents          int64 `json:"documents"`
	Bytes              int64 `json:"bytes"`
	// UpdatedAt is when the counts were recorded.
	UpdatedAt time.Time `json:"updatedAt"`
}

// SnapshotMember is one shard's snapshot within a sharded-cluster snapshot.
type SnapshotMember struct {
	ID             string `json:"id"`
	ReplicaSetName string `json:"replicaSetName"`
}

// SnapshotCollection summarises one collection of a replica-set snapshot.
// Views are not kept in snapshots, as exports skip them.
type SnapshotCollection struct {
	DB   string `json:"db"`
	Name string `json:"name"`
	// Type is "collection" or "timeseries".
	Type  string `json:"type"`
	UUID  string `json:"uuid,omitempty"`
	Count int64  `json:"count"`
	Size  int64  `json:"size"`
}
