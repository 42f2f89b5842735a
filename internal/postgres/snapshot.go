package postgres

import (
	"context"
	"time"

	"github.com/snapexport/snapexport"
)

const snapshotColumns = `id, project_id, cluster_id, cluster_name, kind, parent_id, replica_set_name, members, description, snapshot_type,
	frequency_type, status, mongod_version, cloud_provider, storage_size_bytes, created_at, expires_at, imported_at, collections`

func scanSnapshot(s scanner) (*snapexport.Snapshot, error) {
	var sn snapexport.Snapshot
	var kind, members, status, provider, collections string
	err := s.Scan(&sn.ID, &sn.ProjectID, &sn.ClusterID, &sn.ClusterName, &kind, &sn.ParentID, &sn.ReplicaSetName, &members,
		&sn.Description, &sn.SnapshotType, &sn.FrequencyType, &status, &sn.MongodVersion, &provider, &sn.StorageSizeBytes,
		&sn.CreatedAt, &sn.ExpiresAt, &sn.ImportedAt, &collections)
	if err != nil {
		return nil, notFound(err)
	}
	sn.Kind = snapexport.SnapshotKind(kind)
	sn.Status = snapexport.SnapshotStatus(status)
	sn.CloudProvider = snapexport.CloudProvider(provider)
	sn.CreatedAt, sn.ExpiresAt, sn.ImportedAt = utc(sn.CreatedAt), utc(sn.ExpiresAt), utc(sn.ImportedAt)
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
	// ListSnapshots pages through one cluster's snapshots, but a list's
	// mark (ListMark) takes the highest number among all of the project's
	// snapshots, so the project's snapshots commit in order, not only each
	// cluster's.
	if err := t.lockListOrder(ctx, "snapshots/"+s.ProjectID); err != nil {
		return err
	}
	return inserted("snapshot")(t.exec(ctx, `INSERT INTO snapshots (`+snapshotColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT DO NOTHING`,
		s.ID, s.ProjectID, s.ClusterID, s.ClusterName, string(s.Kind), s.ParentID, s.ReplicaSetName, members,
		s.Description, s.SnapshotType, s.FrequencyType, string(s.Status), s.MongodVersion, string(s.CloudProvider), s.StorageSizeBytes,
		s.CreatedAt, s.ExpiresAt, s.ImportedAt, collections))
}

func (t *tx) Snapshot(ctx context.Context, projectID, clusterID, id string) (*snapexport.Snapshot, error) {
	return scanSnapshot(t.queryRow(ctx, `SELECT `+snapshotColumns+` FROM snapshots WHERE project_id = $1 AND ($2 = '' OR cluster_id = $2) AND id = $3`,
		projectID, clusterID, id))
}

func (t *tx) ListSnapshots(ctx context.Context, projectID, clusterID string, kind snapexport.SnapshotKind, page snapexport.Page) ([]*snapexport.Snapshot, int, error) {
	return pageOf(ctx, t, scanSnapshot, "snapshots", snapshotColumns, `project_id = $1 AND cluster_id = $2 AND kind = $3 AND parent_id = ''`,
		[]any{projectID, clusterID, string(kind)}, page, func(m snapexport.ListMark) int64 { return m.Snapshots })
}

func (t *tx) SnapshotsTakenAt(ctx context.Context, projectID, clusterID string, at time.Time) ([]*snapexport.Snapshot, error) {
	return query(ctx, t, scanSnapshot, `SELECT `+snapshotColumns+` FROM snapshots
		WHERE project_id = $1 AND cluster_id = $2 AND created_at = $3 AND kind = $4 ORDER BY seq`,
		projectID, clusterID, at, string(snapexport.SnapshotReplicaSet))
}

func (t *tx) UpdateSnapshot(ctx context.Context, s *snapexport.Snapshot, at time.Time) error {
	if s.ParentID != "" {
		var parent string
		err := t.queryRow(ctx, `SELECT parent_id FROM snapshots WHERE project_id = $1 AND id = $2`, s.ProjectID, s.ID).Scan(&parent)
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
	return affected(t.exec(ctx, `UPDATE snapshots SET parent_id = $1, expires_at = $2 WHERE project_id = $3 AND id = $4`,
		s.ParentID, s.ExpiresAt, s.ProjectID, s.ID))
}

func (t *tx) DeleteSnapshot(ctx context.Context, projectID, id string, at time.Time) error {
	if err := t.remove(ctx, "snapshots", snapshotColumns, projectID, id, at); err != nil {
		return err
	}
	return affected(t.exec(ctx, `DELETE FROM snapshots WHERE project_id = $1 AND id = $2`, projectID, id))
}

func (t *tx) ExpiredSnapshots(ctx context.Context, before time.Time, limit int) ([]*snapexport.Snapshot, error) {
	lim, _ := limitOffset(snapexport.Page{Limit: limit})
	return query(ctx, t, scanSnapshot, `SELECT `+snapshotColumns+` FROM snapshots WHERE expires_at < $1 AND parent_id = ''
		ORDER BY expires_at, seq LIMIT $2`, before, lim)
}
