package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/snapexport/snapexport"
)

const exportJobColumns = `id, project_id, cluster_id, cluster_name, snapshot_id, export_bucket_id, parent_id, replica_set_name,
	source_snapshot_id, components, custom_data, prefix, state, state_reason, created_at, finished_at,
	total_collections, exported_collections, files, documents, bytes, total_documents, total_bytes, cancel_requested`

func scanExportJob(s scanner) (*snapexport.ExportJob, error) {
	var j snapexport.ExportJob
	var components, customData, state, reason string
	p := &j.Progress
	err := s.Scan(&j.ID, &j.ProjectID, &j.ClusterID, &j.ClusterName, &j.SnapshotID, &j.ExportBucketID, &j.ParentID, &j.ReplicaSetName,
		&j.SourceSnapshotID, &components, &customData, &j.Prefix, &state, &reason, &j.CreatedAt, &j.FinishedAt,
		&p.TotalCollections, &p.ExportedCollections, &p.Files, &p.Documents, &p.Bytes, &p.TotalDocuments, &p.TotalBytes, &j.CancelRequested)
	if err != nil {
		return nil, notFound(err)
	}
	j.State = snapexport.ExportState(state)
	j.CreatedAt, j.FinishedAt = utc(j.CreatedAt), utcPtr(j.FinishedAt)
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
	// ListExportJobs pages through one cluster's jobs.
	if err := t.lockListOrder(ctx, "export_jobs/"+j.ProjectID+"/"+j.ClusterID); err != nil {
		return err
	}
	p := j.Progress
	return inserted("export job")(t.exec(ctx, `INSERT INTO export_jobs (`+exportJobColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
		ON CONFLICT DO NOTHING`,
		j.ID, j.ProjectID, j.ClusterID, j.ClusterName, j.SnapshotID, j.ExportBucketID, j.ParentID, j.ReplicaSetName,
		j.SourceSnapshotID, components, customData, j.Prefix, string(j.State), reason, j.CreatedAt, j.FinishedAt,
		p.TotalCollections, p.ExportedCollections, p.Files, p.Documents, p.Bytes, p.TotalDocuments, p.TotalBytes, j.CancelRequested))
}

func (t *tx) ExportJob(ctx context.Context, projectID, id string) (*snapexport.ExportJob, error) {
	return scanExportJob(t.queryRow(ctx, `SELECT `+exportJobColumns+` FROM export_jobs WHERE project_id = $1 AND id = $2`, projectID, id))
}

func (t *tx) ListExportJobs(ctx context.Context, projectID, clusterID string, page snapexport.Page) ([]*snapexport.ExportJob, int, error) {
	const where = ` FROM export_jobs WHERE project_id = $1 AND cluster_id = $2 AND parent_id = ''`
	var total int
	if err := t.queryRow(ctx, `SELECT count(*)`+where, projectID, clusterID).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit, offset := limitOffset(page)
	out, err := query(ctx, t, scanExportJob, `SELECT `+exportJobColumns+where+` ORDER BY seq LIMIT $3 OFFSET $4`,
		projectID, clusterID, limit, offset)
	return out, total, err
}

func (t *tx) ActiveExportJobs(ctx context.Context, projectID, snapshotID, bucketID string) ([]*snapexport.ExportJob, error) {
	q := `SELECT ` + exportJobColumns + ` FROM export_jobs WHERE project_id = $1 AND state IN ($2, $3)`
	args := []any{projectID, string(snapexport.ExportQueued), string(snapexport.ExportInProgress)}
	// Conditions only for the filters given, so that each query can use
	// the index on its column.
	if snapshotID != "" {
		args = append(args, snapshotID)
		q += ` AND snapshot_id = $` + strconv.Itoa(len(args))
	}
	if bucketID != "" {
		args = append(args, bucketID)
		q += ` AND export_bucket_id = $` + strconv.Itoa(len(args))
	}
	return query(ctx, t, scanExportJob, q+` ORDER BY seq`, args...)
}

func (t *tx) UpdateExportJob(ctx context.Context, j *snapexport.ExportJob) error {
	_, _, reason, err := snapexport.EncodeExportJobLists(j)
	if err != nil {
		return err
	}
	p := j.Progress
	return affected(t.exec(ctx, `UPDATE export_jobs SET state = $1, state_reason = $2, finished_at = $3,
		total_collections = $4, exported_collections = $5, files = $6, documents = $7, bytes = $8, total_documents = $9, total_bytes = $10,
		cancel_requested = $11
		WHERE project_id = $12 AND id = $13`,
		string(j.State), reason, j.FinishedAt,
		p.TotalCollections, p.ExportedCollections, p.Files, p.Documents, p.Bytes, p.TotalDocuments, p.TotalBytes,
		j.CancelRequested, j.ProjectID, j.ID))
}

func (t *tx) ClaimExportJob(ctx context.Context, projectID, id, runner string, now, until time.Time) (bool, error) {
	var lease *time.Time
	if !until.IsZero() {
		lease = &until
	}
	tag, err := t.exec(ctx, `UPDATE export_jobs SET runner = $1, lease_until = $2
		WHERE project_id = $3 AND id = $4 AND (runner = $1 OR lease_until IS NULL OR lease_until < $5)`,
		runner, lease, projectID, id, now)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var one int
	if err := t.queryRow(ctx, `SELECT 1 FROM export_jobs WHERE project_id = $1 AND id = $2`, projectID, id).Scan(&one); err != nil {
		return false, notFound(err)
	}
	return false, nil
}

func (t *tx) LapsedExportJobs(ctx context.Context, now time.Time, limit int) ([]*snapexport.ExportJob, error) {
	return query(ctx, t, scanExportJob, `SELECT `+exportJobColumns+` FROM export_jobs
		WHERE state IN ($1, $2) AND lease_until IS NOT NULL AND lease_until < $3 ORDER BY seq LIMIT $4`,
		string(snapexport.ExportQueued), string(snapexport.ExportInProgress), now, limit)
}
