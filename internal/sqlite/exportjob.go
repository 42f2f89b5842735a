package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/snapexport/snapexport"
)

const exportJobColumns = `id, project_id, cluster_id, cluster_name, snapshot_id, export_bucket_id, parent_id, replica_set_name,
	source_snapshot_id, components, custom_data, prefix, state, state_reason, created_at, finished_at,
	total_collections, exported_collections, files, documents, bytes, total_documents, total_bytes, cancel_requested`

func scanExportJob(s interface{ Scan(...any) error }) (*snapexport.ExportJob, error) {
	var j snapexport.ExportJob
	var components, customData, state, reason, created string
	var finished sql.NullString
	p := &j.Progress
	err := s.Scan(&j.ID, &j.ProjectID, &j.ClusterID, &j.ClusterName, &j.SnapshotID, &j.ExportBucketID, &j.ParentID, &j.ReplicaSetName,
		&j.SourceSnapshotID, &components, &customData, &j.Prefix, &state, &reason, &created, &finished,
		&p.TotalCollections, &p.ExportedCollections, &p.Files, &p.Documents, &p.Bytes, &p.TotalDocuments, &p.TotalBytes, &j.CancelRequested)
	if err != nil {
		return nil, notFound(err)
	}
	j.State = snapexport.ExportState(state)
	j.CreatedAt, j.FinishedAt = parseTime(created), parseTimePtr(finished)
	if err := snapexport.DecodeExportJobLists(&j, components, customData, reason); err != nil {
		return nil, err
	}
	return &j, nil
}

func (t *tx) CreateExportJob(ctx context.Context, j *snapexport.ExportJob) error {
	components, customData, reason, err := snapexport.EncodeExportJobLists(j)
	if err != nil {
		return err
	}
	p := j.Progress
	_, err = t.tx.ExecContext(ctx, `INSERT INTO export_jobs (`+exportJobColumns+`) VALUES (`+placeholders(24)+`)`,
		j.ID, j.ProjectID, j.ClusterID, j.ClusterName, j.SnapshotID, j.ExportBucketID, j.ParentID, j.ReplicaSetName,
		j.SourceSnapshotID, components, customData, j.Prefix, string(j.State), reason, formatTime(j.CreatedAt), formatTimePtr(j.FinishedAt),
		p.TotalCollections, p.ExportedCollections, p.Files, p.Documents, p.Bytes, p.TotalDocuments, p.TotalBytes, j.CancelRequested)
	return conflict(err)
}

func (t *tx) ExportJob(ctx context.Context, projectID, id string) (*snapexport.ExportJob, error) {
	return scanExportJob(t.tx.QueryRowContext(ctx, `SELECT `+exportJobColumns+` FROM export_jobs WHERE project_id = ? AND id = ?`, projectID, id))
}

func (t *tx) ListExportJobs(ctx context.Context, projectID, clusterID string, page snapexport.Page) ([]*snapexport.ExportJob, int, error) {
	const where = ` FROM export_jobs WHERE project_id = ? AND cluster_id = ? AND parent_id = ''`
	var total int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*)`+where, projectID, clusterID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+exportJobColumns+where+` ORDER BY seq`+limitOffset(page), projectID, clusterID)
	if err != nil {
		return nil, 0, err
	}
	out, err := collect(rows, scanExportJob)
	return out, total, err
}

func (t *tx) ActiveExportJobs(ctx context.Context, projectID, snapshotID, bucketID string) ([]*snapexport.ExportJob, error) {
	q := `SELECT ` + exportJobColumns + ` FROM export_jobs WHERE project_id = ? AND state IN (?, ?)`
	args := []any{projectID, string(snapexport.ExportQueued), string(snapexport.ExportInProgress)}
	// Conditions only for the filters given, so that each query can use
	// the index on its column.
	if snapshotID != "" {
		q += ` AND snapshot_id = ?`
		args = append(args, snapshotID)
	}
	if bucketID != "" {
		q += ` AND export_bucket_id = ?`
		args = append(args, bucketID)
	}
	rows, err := t.tx.QueryContext(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanExportJob)
}

func (t *tx) UpdateExportJob(ctx context.Context, j *snapexport.ExportJob) error {
	_, _, reason, err := snapexport.EncodeExportJobLists(j)
	if err != nil {
		return err
	}
	p := j.Progress
	return affected(t.tx.ExecContext(ctx, `UPDATE export_jobs SET state = ?, state_reason = ?, finished_at = ?,
		total_collections = ?, exported_collections = ?, files = ?, documents = ?, bytes = ?, total_documents = ?, total_bytes = ?,
		cancel_requested = ?
		WHERE project_id = ? AND id = ?`,
		string(j.State), reason, formatTimePtr(j.FinishedAt),
		p.TotalCollections, p.ExportedCollections, p.Files, p.Documents, p.Bytes, p.TotalDocuments, p.TotalBytes,
		j.CancelRequested, j.ProjectID, j.ID))
}

func (t *tx) ClaimExportJob(ctx context.Context, projectID, id, runner string, now, until time.Time) (bool, error) {
	var lease any
	if !until.IsZero() {
		lease = formatTime(until)
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE export_jobs SET runner = ?, lease_until = ?
		WHERE project_id = ? AND id = ? AND (runner = ? OR lease_until IS NULL OR lease_until < ?)`,
		runner, lease, projectID, id, runner, formatTime(now))
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return n == 1, err
	}
	var one int
	if err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM export_jobs WHERE project_id = ? AND id = ?`, projectID, id).Scan(&one); err != nil {
		return false, notFound(err)
	}
	return false, nil
}

func (t *tx) LapsedExportJobs(ctx context.Context, now time.Time, limit int) ([]*snapexport.ExportJob, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+exportJobColumns+` FROM export_jobs
		WHERE state IN (?, ?) AND lease_until IS NOT NULL AND lease_until < ? ORDER BY seq LIMIT ?`,
		string(snapexport.ExportQueued), string(snapexport.ExportInProgress), formatTime(now), limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanExportJob)
}
