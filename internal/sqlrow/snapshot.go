package sqlrow

import (
	"cmp"

	"github.com/snapexport/snapexport"
)

// SnapshotColumns are the columns of snapshots (and removed_snapshots) that
// SnapshotValues fills and ScanSnapshot reads, in that order. Members,
// collections and policy items are kept as JSON text.
const SnapshotColumns = `id, project_id, cluster_id, cluster_name, kind, parent_id, replica_set_name, members, description, snapshot_type,
	frequency_type, status, mongod_version, cloud_provider, storage_size_bytes, created_at, expires_at, imported_at, collections, policy_items,
	consistency, progress, failure_reason`

func SnapshotValues(s *snapexport.Snapshot) []any {
	return []any{s.ID, s.ProjectID, s.ClusterID, s.ClusterName, string(s.Kind), s.ParentID, s.ReplicaSetName, storedList(s.Members),
		s.Description, s.SnapshotType, s.FrequencyType, string(s.Status), s.MongodVersion, string(s.CloudProvider), s.StorageSizeBytes,
		s.CreatedAt, s.ExpiresAt, s.ImportedAt, storedList(s.Collections), storedList(s.PolicyItems),
		string(s.Consistency), storedJSON(s.Progress), s.FailureReason}
}

func ScanSnapshot(s Scanner) (*snapexport.Snapshot, error) {
	var sn snapexport.Snapshot
	var members, collections, policyItems, progress string
	err := s.Scan(&sn.ID, &sn.ProjectID, &sn.ClusterID, &sn.ClusterName, (*string)(&sn.Kind), &sn.ParentID, &sn.ReplicaSetName, &members,
		&sn.Description, &sn.SnapshotType, &sn.FrequencyType, (*string)(&sn.Status), &sn.MongodVersion, (*string)(&sn.CloudProvider),
		&sn.StorageSizeBytes, timeColumn{&sn.CreatedAt}, timeColumn{&sn.ExpiresAt}, timeColumn{&sn.ImportedAt}, &collections, &policyItems,
		(*string)(&sn.Consistency), &progress, &sn.FailureReason)
	if err != nil {
		return nil, NotFound(err)
	}
	err = cmp.Or(loadList(members, &sn.Members, "snapshot", sn.ID, "members"),
		loadList(collections, &sn.Collections, "snapshot", sn.ID, "collections"),
		loadList(policyItems, &sn.PolicyItems, "snapshot", sn.ID, "policy_items"),
		loadJSON(progress, &sn.Progress, "snapshot", sn.ID, "progress"))
	if err != nil {
		return nil, err
	}
	return &sn, nil
}

// SnapshotUpdateValues are the values of an update of a snapshot
// (Tx.UpdateSnapshot): parent_id and expires_at, then the project_id and id
// of the row.
func SnapshotUpdateValues(s *snapexport.Snapshot) []any {
	return []any{s.ParentID, s.ExpiresAt, s.ProjectID, s.ID}
}

// SnapshotStateColumns are the columns Tx.RecordSnapshotState writes, in
// the order of SnapshotStateValues, which ends with the project_id and id
// of the row.
var SnapshotStateColumns = []string{"status", "created_at", "expires_at", "mongod_version", "cloud_provider", "storage_size_bytes",
	"imported_at", "collections", "consistency", "progress", "failure_reason"}

func SnapshotStateValues(s *snapexport.Snapshot) []any {
	return []any{string(s.Status), s.CreatedAt, s.ExpiresAt, s.MongodVersion, string(s.CloudProvider), s.StorageSizeBytes,
		s.ImportedAt, storedList(s.Collections), string(s.Consistency), storedJSON(s.Progress), s.FailureReason, s.ProjectID, s.ID}
}
