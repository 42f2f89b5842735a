package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreateExportJob(ctx context.Context, j *snapexport.ExportJob) error {
	// ListExportJobs pages through one cluster's jobs.
	return t.insertListed(ctx, "export_jobs/"+j.ProjectID+"/"+j.ClusterID, "export job", "export_jobs", sqlrow.ExportJobColumns, sqlrow.ExportJobValues(j))
}

func (t *tx) ExportJob(ctx context.Context, projectID, id string) (*snapexport.ExportJob, error) {
	return sqlrow.ScanExportJob(t.queryRow(ctx, `SELECT `+sqlrow.ExportJobColumns+` FROM export_jobs WHERE project_id = $1 AND id = $2`, projectID, id))
}

func (t *tx) ListExportJobs(ctx context.Context, projectID, clusterID string, page snapexport.Page) ([]*snapexport.ExportJob, int, error) {
	return countedPage(ctx, t, sqlrow.ScanExportJob, sqlrow.ExportJobColumns,
		"export_jobs", `project_id = $1 AND cluster_id = $2 AND parent_id = ''`, []any{projectID, clusterID}, page)
}

func (t *tx) ActiveExportJobs(ctx context.Context, projectID, snapshotID, bucketID string) ([]*snapexport.ExportJob, error) {
	q := `SELECT ` + sqlrow.ExportJobColumns + ` FROM export_jobs WHERE project_id = $1 AND state IN ($2, $3)`
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
	return query(ctx, t, sqlrow.ScanExportJob, q+` ORDER BY seq`, args...)
}

func (t *tx) UpdateExportJob(ctx context.Context, j *snapexport.ExportJob) error {
	return affected(t.exec(ctx, `UPDATE export_jobs SET state = $1, state_reason = $2, finished_at = $3,
		total_collections = $4, exported_collections = $5, files = $6, documents = $7, bytes = $8, total_documents = $9, total_bytes = $10,
		cancel_requested = $11
		WHERE project_id = $12 AND id = $13`, sqlrow.ExportJobUpdateValues(j)...))
}

func (t *tx) ClaimExportJob(ctx context.Context, projectID, id, runner string, now, until time.Time) (bool, error) {
	return t.claimLease(ctx, "export_jobs", projectID, id, runner, now, until)
}

// claimLease gives runner the lease on the row of table (export_jobs,
// snapshots) when it is free, lapsed at now, or already runner's.
func (t *tx) claimLease(ctx context.Context, table, projectID, id, runner string, now, until time.Time) (bool, error) {
	var lease *time.Time
	if !until.IsZero() {
		lease = &until
	}
	tag, err := t.exec(ctx, `UPDATE `+table+` SET runner = $1, lease_until = $2
		WHERE project_id = $3 AND id = $4 AND (runner = $1 OR lease_until IS NULL OR lease_until < $5)`,
		runner, lease, projectID, id, now)
	return t.leaseHeld(ctx, table, projectID, id, tag, err)
}

func (t *tx) RenewExportJob(ctx context.Context, projectID, id, runner string, until time.Time) (bool, error) {
	return t.renewLease(ctx, "export_jobs", projectID, id, runner, until)
}

// renewLease extends runner's lease on the row of table to until, if
// runner still holds it (a lease runner released is not held).
func (t *tx) renewLease(ctx context.Context, table, projectID, id, runner string, until time.Time) (bool, error) {
	tag, err := t.exec(ctx, `UPDATE `+table+` SET lease_until = $1
		WHERE project_id = $2 AND id = $3 AND runner = $4 AND lease_until IS NOT NULL`, until, projectID, id, runner)
	return t.leaseHeld(ctx, table, projectID, id, tag, err)
}

// leaseHeld tells from the update of a lease whether it took: ErrNotFound
// when no row was updated because there is none.
func (t *tx) leaseHeld(ctx context.Context, table, projectID, id string, tag pgconn.CommandTag, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var one int
	if err := t.queryRow(ctx, `SELECT 1 FROM `+table+` WHERE project_id = $1 AND id = $2`, projectID, id).Scan(&one); err != nil {
		return false, sqlrow.NotFound(err)
	}
	return false, nil
}

func (t *tx) ExportJobLease(ctx context.Context, projectID, id string) (string, *time.Time, error) {
	return sqlrow.ScanExportJobLease(t.queryRow(ctx, `SELECT `+sqlrow.ExportJobLeaseColumns+` FROM export_jobs WHERE project_id = $1 AND id = $2`, projectID, id))
}

func (t *tx) LapsedExportJobs(ctx context.Context, now time.Time, limit int) ([]*snapexport.ExportJob, error) {
	return query(ctx, t, sqlrow.ScanExportJob, `SELECT `+sqlrow.ExportJobColumns+` FROM export_jobs
		WHERE state IN ($1, $2) AND lease_until IS NOT NULL AND lease_until < $3 ORDER BY seq LIMIT $4`,
		string(snapexport.ExportQueued), string(snapexport.ExportInProgress), now, limit)
}
