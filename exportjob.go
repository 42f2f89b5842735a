package snapexport

import (
	"cmp"
	"log/slog"
	"time"
)

// ExportState is an export job's state in Atlas's API.
type ExportState string

const (
	ExportQueued     ExportState = "Queued"
	ExportInProgress ExportState = "InProgress"
	ExportSuccessful ExportState = "Successful"
	ExportFailed     ExportState = "Failed"
	ExportCancelled  ExportState = "Cancelled"
)

// Active reports whether a job in state s has not ended.
func (s ExportState) Active() bool { return s == ExportQueued || s == ExportInProgress }

// ExportJob writes a snapshot's data into an export bucket. The export of
// a sharded cluster is a parent job with one component job per shard; the
// components do the writing and the parent reports on them.
type ExportJob struct {
	ID             string
	ProjectID      string
	ClusterID      string
	ClusterName    string
	SnapshotID     string
	ExportBucketID string
	// ParentID is the sharded export a component belongs to; empty
	// otherwise.
	ParentID string
	// ReplicaSetName is the replica set a job exports (empty for the parent
	// of a sharded export), and SourceSnapshotID the replica-set snapshot
	// holding its data.
	ReplicaSetName   string
	SourceSnapshotID string
	// Components are a sharded export's jobs, in shard order; nil
	// otherwise.
	Components []ExportComponent
	CustomData []Label
	// Prefix is the object-key prefix of every object of the export.
	Prefix      string
	State       ExportState
	StateReason *ExportStateReason
	CreatedAt   time.Time
	// FinishedAt is set when the job ends.
	FinishedAt *time.Time
	// Progress is updated as collections finish.
	Progress ExportProgress
	// CancelRequested asks the job's runner to stop.
	CancelRequested bool
}

// LogAttrs name the job the same way on every line of the server's log:
// export is the id its user holds, a sharded export's for one of its
// shards' jobs (whose own id is then component); then its project
// (group), its cluster (by name and id), the snapshot it exports and the
// replica set.
func (j *ExportJob) LogAttrs() []slog.Attr {
	attrs := []slog.Attr{slog.String("export", cmp.Or(j.ParentID, j.ID))}
	if j.ParentID != "" {
		attrs = append(attrs, slog.String("component", j.ID))
	}
	attrs = append(attrs, slog.String("group", j.ProjectID), slog.String("cluster", j.ClusterName), slog.String("clusterId", j.ClusterID),
		slog.String("snapshot", j.SnapshotID))
	if j.ReplicaSetName != "" {
		attrs = append(attrs, slog.String("replicaSet", j.ReplicaSetName))
	}
	return attrs
}

// ExportComponent is one shard's job within a sharded export.
type ExportComponent struct {
	ExportID       string `json:"exportId"`
	ReplicaSetName string `json:"replicaSetName"`
}

// ExportStateReason says why a job failed.
type ExportStateReason struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

// ExportProgress is how far a job has come. Collections are exported in
// the snapshot's order; ExportedCollections of them are complete in the
// bucket, with Files objects written for them.
type ExportProgress struct {
	TotalCollections    int   `json:"totalCollections"`
	ExportedCollections int   `json:"exportedCollections"`
	Files               int   `json:"files"`
	Documents           int64 `json:"documents"`
	Bytes               int64 `json:"bytes"`
	TotalDocuments      int64 `json:"totalDocuments"`
	TotalBytes          int64 `json:"totalBytes"`
}
