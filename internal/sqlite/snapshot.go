package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreateSnapshot(ctx context.Context, s *snapexport.Snapshot) error {
	return insert(ctx, t.tx, "snapshots", sqlrow.SnapshotColumns, sqlrow.SnapshotValues(s))
}

func (t *tx) Snapshot(ctx context.Context, projectID, clusterID, id string) (*snapexport.Snapshot, error) {
	return sqlrow.ScanSnapshot(queryRow(ctx, t.tx, `SELECT `+sqlrow.SnapshotColumns+` FROM snapshots WHERE project_id = ? AND (? = '' OR cluster_id = ?) AND id = ?`,
		projectID, clusterID, clusterID, id))
}

func (t *tx) ListSnapshots(ctx context.Context, projectID, clusterID string, kind snapexport.SnapshotKind, page snapexport.Page) ([]*snapexport.Snapshot, int, error) {
	return pageOf(ctx, t, sqlrow.ScanSnapshot, "snapshots", sqlrow.SnapshotColumns, `project_id = ? AND cluster_id = ? AND kind = ? AND parent_id = ''`,
		[]any{projectID, clusterID, string(kind)}, page, func(m snapexport.ListMark) int64 { return m.Snapshots },
		projectID, clusterID+"/"+string(kind))
}

func (t *tx) SnapshotsTakenAt(ctx context.Context, projectID, clusterID string, at time.Time) ([]*snapexport.Snapshot, error) {
	// Every instant is written as one text (sqlrow.FormatTime), so text
	// equality is equality of instants.
	return query(ctx, t.tx, sqlrow.ScanSnapshot, `SELECT `+sqlrow.SnapshotColumns+` FROM snapshots
		WHERE project_id = ? AND cluster_id = ? AND created_at = ? AND kind = ? ORDER BY seq`,
		projectID, clusterID, at, string(snapexport.SnapshotReplicaSet))
}

func (t *tx) UpdateSnapshot(ctx context.Context, s *snapexport.Snapshot, at time.Time) error {
	if s.ParentID != "" {
		var parent string
		err := queryRow(ctx, t.tx, `SELECT parent_id FROM snapshots WHERE project_id = ? AND id = ?`, s.ProjectID, s.ID).Scan(&parent)
		if err != nil {
			return sqlrow.NotFound(err)
		}
		if parent == "" {
			// It leaves its cluster's list for its parent's members.
			if err := t.remove(ctx, "snapshots", sqlrow.SnapshotColumns, s.ProjectID, s.ID, at); err != nil {
				return err
			}
		}
	}
	return affected(exec(ctx, t.tx, `UPDATE snapshots SET parent_id = ?, expires_at = ? WHERE project_id = ? AND id = ?`,
		sqlrow.SnapshotUpdateValues(s)...))
}

func (t *tx) RecordSnapshotState(ctx context.Context, s *snapexport.Snapshot) error {
	return affected(exec(ctx, t.tx, `UPDATE snapshots SET `+strings.Join(sqlrow.SnapshotStateColumns, " = ?, ")+` = ? WHERE project_id = ? AND id = ?`,
		sqlrow.SnapshotStateValues(s)...))
}

func (t *tx) DeleteSnapshot(ctx context.Context, projectID, id string, at time.Time) error {
	return t.deleteListed(ctx, "snapshots", sqlrow.SnapshotColumns, projectID, id, at)
}

func (t *tx) ExpiredSnapshots(ctx context.Context, before time.Time, limit int) ([]*snapexport.Snapshot, error) {
	return query(ctx, t.tx, sqlrow.ScanSnapshot, `SELECT `+sqlrow.SnapshotColumns+` FROM snapshots WHERE expires_at < ? AND parent_id = ''
		ORDER BY expires_at, seq`+limitOffset(snapexport.Page{Limit: limit}), before)
}

func (t *tx) ClaimSnapshot(ctx context.Context, projectID, id, runner string, now, until time.Time) (bool, error) {
	return t.claimLease(ctx, "snapshots", projectID, id, runner, now, until)
}

func (t *tx) RenewSnapshot(ctx context.Context, projectID, id, runner string, until time.Time) (bool, error) {
	return t.renewLease(ctx, "snapshots", projectID, id, runner, until)
}

func (t *tx) LapsedSnapshots(ctx context.Context, now time.Time, limit int) ([]*snapexport.Snapshot, error) {
	return query(ctx, t.tx, sqlrow.ScanSnapshot, `SELECT `+sqlrow.SnapshotColumns+` FROM snapshots
		WHERE status IN (?, ?) AND parent_id = '' AND lease_until IS NOT NULL AND lease_until < ? ORDER BY seq LIMIT ?`,
		string(snapexport.SnapshotQueued), string(snapexport.SnapshotInProgress), now, limit)
}

func (t *tx) ClaimScheduledSnapshot(ctx context.Context, projectID, clusterID string, at, forgetBefore time.Time) (bool, error) {
	if _, err := exec(ctx, t.tx, `DELETE FROM scheduled_snapshot_claims WHERE cluster_id = ? AND scheduled_at < ?`, clusterID, forgetBefore); err != nil {
		return false, err
	}
	res, err := exec(ctx, t.tx, `INSERT INTO scheduled_snapshot_claims (cluster_id, scheduled_at, project_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		clusterID, at, projectID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *tx) ReleaseScheduledSnapshot(ctx context.Context, clusterID string, at time.Time) error {
	_, err := exec(ctx, t.tx, `DELETE FROM scheduled_snapshot_claims WHERE cluster_id = ? AND scheduled_at = ?`, clusterID, at)
	return err
}
