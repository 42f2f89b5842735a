package service

import "time"

// SnapshotRequest is a snapshot to take of a cluster: on demand, or for
// the items of its backup policy.
type SnapshotRequest struct {
	SnapshotType  string   // "onDemand" or "scheduled"
	FrequencyType string   // "ondemand", "hourly", "daily", "weekly", "monthly", "yearly"
	PolicyItemIDs []string // the policy items a scheduled snapshot is taken for
	Description   string
	ExpiresAt     time.Time
}
