package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreateSnapshot(ctx context.Context, s *snapexport.Snapshot) error {
	// ListSnapshots pages through one cluster's snapshots, but a list's
	// mark (ListMark) takes the highest number among all of the project's
	// snapshots, so the project's snapshots commit in order, not only each
	// cluster's.
	return t.insertListed(ctx, "snapshots/"+s.ProjectID, "snapshot", "snapshots", sqlrow.SnapshotColumns, sqlrow.SnapshotValues(s))
}

func (t *tx) Snapshot(ctx context.Context, projectID, clusterID, id string) (*snapexport.Snapshot, error) {
	return sqlrow.ScanSnapshot(t.queryRow(ctx, `SELECT `+sqlrow.SnapshotColumns+` FROM snapshots WHERE project_id = $1 AND ($2 = '' OR cluster_id = $2) AND id = $3`,
		projectID, clusterID, id))
}

func (t *tx) ListSnapshots(ctx context.Context, projectID, clusterID string, kind snapexport.SnapshotKind, page snapexport.Page) ([]*snapexport.Snapshot, int, error) {
	return pageOf(ctx, t, sqlrow.ScanSnapshot, "snapshots", sqlrow.SnapshotColumns, `project_id = $1 AND cluster_id = $2 AND kind = $3 AND parent_id = ''`,
		[]any{projectID, clusterID, string(kind)}, page, func(m snapexport.ListMark) int64 { return m.Snapshots },
		projectID, clusterID+"/"+string(kind))
}

func (t *tx) SnapshotsTakenAt(ctx context.Context, projectID, clusterID string, at time.Time) ([]*snapexport.Snapshot, error) {
	return query(ctx, t, sqlrow.ScanSnapshot, `SELECT `+sqlrow.SnapshotColumns+` FROM snapshots
		WHERE project_id = $1 AND cluster_id = $2 AND created_at = $3 AND kind = $4 ORDER BY seq`,
		projectID, clusterID, at, string(snapexport.SnapshotReplicaSet))
}

func (t *tx) UpdateSnapshot(ctx context.Context, s *snapexport.Snapshot, at time.Time) error {
	if s.ParentID != "" {
		var parent string
		err := t.queryRow(ctx, `SELECT parent_id FROM snapshots WHERE project_id = $1 AND id = $2`, s.ProjectID, s.ID).Scan(&parent)
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
	return affected(t.exec(ctx, `UPDATE snapshots SET parent_id = $1, expires_at = $2 WHERE project_id = $3 AND id = $4`,
		sqlrow.SnapshotUpdateValues(s)...))
}

func (t *tx) RecordSnapshotState(ctx context.Context, s *snapexport.Snapshot) error {
	set := make([]string, len(sqlrow.SnapshotStateColumns))
	for i, c := range sqlrow.SnapshotStateColumns {
		set[i] = c + " = $" + strconv.Itoa(i+1)
	}
	n := len(set)
	return affected(t.exec(ctx, `UPDATE snapshots SET `+strings.Join(set, ", ")+` WHERE project_id = $`+strconv.Itoa(n+1)+` AND id = $`+strconv.Itoa(n+2),
		sqlrow.SnapshotStateValues(s)...))
}

func (t *tx) DeleteSnapshot(ctx context.Context, projectID, id string, at time.Time) error {
	return t.deleteListed(ctx, "snapshots", sqlrow.SnapshotColumns, projectID, id, at)
}

func (t *tx) ExpiredSnapshots(ctx context.Context, before time.Time, limit int) ([]*snapexport.Snapshot, error) {
	lim, _ := limitOffset(snapexport.Page{Limit: limit})
	return query(ctx, t, sqlrow.ScanSnapshot, `SELECT `+sqlrow.SnapshotColumns+` FROM snapshots WHERE expires_at < $1 AND parent_id = ''
		ORDER BY expires_at, seq LIMIT $2`, before, lim)
}

func (t *tx) ClaimSnapshot(ctx context.Context, projectID, id, runner string, now, until time.Time) (bool, error) {
	return t.claimLease(ctx, "snapshots", projectID, id, runner, now, until)
}

func (t *tx) RenewSnapshot(ctx context.Context, projectID, id, runner string, until time.Time) (bool, error) {
	return t.renewLease(ctx, "snapshots", projectID, id, runner, until)
}

func (t *tx) LapsedSnapshots(ctx context.Context, now time.Time, limit int) ([]*snapexport.Snapshot, error) {
	return query(ctx, t, sqlrow.ScanSnapshot, `SELECT `+sqlrow.SnapshotColumns+` FROM snapshots
		WHERE status IN ($1, $2) AND parent_id = '' AND lease_until IS NOT NULL AND lease_until < $3 ORDER BY seq LIMIT $4`,
		string(snapexport.SnapshotQueued), string(snapexport.SnapshotInProgress), now, limit)
}

func (t *tx) ClaimScheduledSnapshot(ctx context.Context, projectID, clusterID string, at, forgetBefore time.Time) (bool, error) {
	if _, err := t.exec(ctx, `DELETE FROM scheduled_snapshot_claims WHERE cluster_id = $1 AND scheduled_at < $2`, clusterID, forgetBefore); err != nil {
		return false, err
	}
	tag, err := t.exec(ctx, `INSERT INTO scheduled_snapshot_claims (cluster_id, scheduled_at, project_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		clusterID, at, projectID)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func (t *tx) ReleaseScheduledSnapshot(ctx context.Context, clusterID string, at time.Time) error {
	_, err := t.exec(ctx, `DELETE FROM scheduled_snapshot_claims WHERE cluster_id = $1 AND scheduled_at = $2`, clusterID, at)
	return err
}
