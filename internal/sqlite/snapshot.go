package sqlite

import (
	"context"
	"time"

	"github.com/snapexport/snapexport"
)

const snapshotColumns = `id, project_id, cluster_id, cluster_name, kind, parent_id, replica_set_name, members, description, snapshot_type,
	frequency_type, status, mongod_version, cloud_provider, storage_size_bytes, created_at, expires_at, imported_at, collections`

func scanSnapshot(s interface{ Scan(...any) error }) (*snapexport.Snapshot, error) {
	var sn snapexport.Snapshot
	var kind, members, status, provider, created, expires, imported, collections string
	err := s.Scan(&sn.ID, &sn.ProjectID, &sn.ClusterID, &sn.ClusterName, &kind, &sn.ParentID, &sn.ReplicaSetName, &members,
		&sn.Description, &sn.SnapshotType, &sn.FrequencyType, &status, &sn.MongodVersion, &provider, &sn.StorageSizeBytes,
		&created, &expires, &imported, &collections)
	if err != nil {
		return nil, notFound(err)
	}
	sn.Kind = snapexport.SnapshotKind(kind)
	sn.Status = snapexport.SnapshotStatus(status)
	sn.CloudProvider = snapexport.CloudProvider(provider)
	sn.CreatedAt, sn.ExpiresAt, sn.ImportedAt = parseTime(created), parseTime(expires), parseTime(imported)
	if err := snapexport.DecodeSnapshotLists(&sn, members, collections); err != nil {
		return nil, err
	}
	return &sn, nil
}

func (t *tx) CreateSnapshot(ctx context.Context, s *snapexport.Snapshot) error {
	members, collections, err := snapexport.EncodeSnapshotLists(s)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO snapshots (`+snapshotColumns+`) VALUES (`+placeholders(19)+`)`,
		s.ID, s.ProjectID, s.ClusterID, s.ClusterName, string(s.Kind), s.ParentID, s.ReplicaSetName, members,
		s.Description, s.SnapshotType, s.FrequencyType, string(s.Status), s.MongodVersion, string(s.CloudProvider), s.StorageSizeBytes,
		formatTime(s.CreatedAt), formatTime(s.ExpiresAt), formatTime(s.ImportedAt), collections)
	return conflict(err)
}

func (t *tx) Snapshot(ctx context.Context, projectID, clusterID, id string) (*snapexport.Snapshot, error) {
	return scanSnapshot(t.tx.QueryRowContext(ctx, `SELECT `+snapshotColumns+` FROM snapshots WHERE project_id = ? AND (? = '' OR cluster_id = ?) AND id = ?`,
		projectID, clusterID, clusterID, id))
}

func (t *tx) ListSnapshots(ctx context.Context, projectID, clusterID string, kind snapexport.SnapshotKind, page snapexport.Page) ([]*snapexport.Snapshot, int, error) {
	return pageOf(ctx, t, scanSnapshot, "snapshots", snapshotColumns, `project_id = ? AND cluster_id = ? AND kind = ? AND parent_id = ''`,
		[]any{projectID, clusterID, string(kind)}, page, func(m snapexport.ListMark) int64 { return m.Snapshots })
}

func (t *tx) SnapshotsTakenAt(ctx context.Context, projectID, clusterID string, at time.Time) ([]*snapexport.Snapshot, error) {
	// formatTime writes every instant as one string, so text equality is
	// equality of instants.
	rows, err := t.tx.QueryContext(ctx, `SELECT `+snapshotColumns+` FROM snapshots
		WHERE project_id = ? AND cluster_id = ? AND created_at = ? AND kind = ? ORDER BY seq`,
		projectID, clusterID, formatTime(at), string(snapexport.SnapshotReplicaSet))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSnapshot)
}

func (t *tx) UpdateSnapshot(ctx context.Context, s *snapexport.Snapshot, at time.Time) error {
	if s.ParentID != "" {
		var parent string
		err := t.tx.QueryRowContext(ctx, `SELECT parent_id FROM snapshots WHERE project_id = ? AND id = ?`, s.ProjectID, s.ID).Scan(&parent)
		if err != nil {
			return notFound(err)
		}
		if parent == "" {
			// It leaves its cluster's list for its parent's members.
			if err := t.remove(ctx, "snapshots", snapshotColumns, s.ProjectID, s.ID, at); err != nil {
				return err
			}
		}
	}
	return affected(t.tx.ExecContext(ctx, `UPDATE snapshots SET parent_id = ?, expires_at = ? WHERE project_id = ? AND id = ?`,
		s.ParentID, formatTime(s.ExpiresAt), s.ProjectID, s.ID))
}

func (t *tx) DeleteSnapshot(ctx context.Context, projectID, id string, at time.Time) error {
	if err := t.remove(ctx, "snapshots", snapshotColumns, projectID, id, at); err != nil {
		return err
	}
	return affected(t.tx.ExecContext(ctx, `DELETE FROM snapshots WHERE project_id = ? AND id = ?`, projectID, id))
}

func (t *tx) ExpiredSnapshots(ctx context.Context, before time.Time, limit int) ([]*snapexport.Snapshot, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+snapshotColumns+` FROM snapshots WHERE expires_at < ? AND parent_id = ''
		ORDER BY expires_at, seq`+limitOffset(snapexport.Page{Limit: limit}), formatTime(before))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSnapshot)
}
