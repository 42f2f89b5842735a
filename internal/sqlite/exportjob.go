package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreateExportJob(ctx context.Context, j *snapexport.ExportJob) error {
	return insert(ctx, t.tx, "export_jobs", sqlrow.ExportJobColumns, sqlrow.ExportJobValues(j))
}

func (t *tx) ExportJob(ctx context.Context, projectID, id string) (*snapexport.ExportJob, error) {
	return sqlrow.ScanExportJob(queryRow(ctx, t.tx, `SELECT `+sqlrow.ExportJobColumns+` FROM export_jobs WHERE project_id = ? AND id = ?`, projectID, id))
}

func (t *tx) ListExportJobs(ctx context.Context, projectID, clusterID string, page snapexport.Page) ([]*snapexport.ExportJob, int, error) {
	return countedPage(ctx, t, sqlrow.ScanExportJob, sqlrow.ExportJobColumns,
		"export_jobs", `project_id = ? AND cluster_id = ? AND parent_id = ''`, []any{projectID, clusterID}, page)
}

func (t *tx) ActiveExportJobs(ctx context.Context, projectID, snapshotID, bucketID string) ([]*snapexport.ExportJob, error) {
	q := `SELECT ` + sqlrow.ExportJobColumns + ` FROM export_jobs WHERE project_id = ? AND state IN (?, ?)`
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
	return query(ctx, t.tx, sqlrow.ScanExportJob, q+` ORDER BY seq`, args...)
}

func (t *tx) UpdateExportJob(ctx context.Context, j *snapexport.ExportJob) error {
	return affected(exec(ctx, t.tx, `UPDATE export_jobs SET state = ?, state_reason = ?, finished_at = ?,
		total_collections = ?, exported_collections = ?, files = ?, documents = ?, bytes = ?, total_documents = ?, total_bytes = ?,
		cancel_requested = ?
		WHERE project_id = ? AND id = ?`, sqlrow.ExportJobUpdateValues(j)...))
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
	res, err := exec(ctx, t.tx, `UPDATE `+table+` SET runner = ?, lease_until = ?
		WHERE project_id = ? AND id = ? AND (runner = ? OR lease_until IS NULL OR lease_until < ?)`,
		runner, lease, projectID, id, runner, now)
	return t.leaseHeld(ctx, table, projectID, id, res, err)
}

func (t *tx) RenewExportJob(ctx context.Context, projectID, id, runner string, until time.Time) (bool, error) {
	return t.renewLease(ctx, "export_jobs", projectID, id, runner, until)
}

// renewLease extends runner's lease on the row of table to until, if
// runner still holds it (a lease runner released is not held).
func (t *tx) renewLease(ctx context.Context, table, projectID, id, runner string, until time.Time) (bool, error) {
	res, err := exec(ctx, t.tx, `UPDATE `+table+` SET lease_until = ?
		WHERE project_id = ? AND id = ? AND runner = ? AND lease_until IS NOT NULL`, until, projectID, id, runner)
	return t.leaseHeld(ctx, table, projectID, id, res, err)
}

// leaseHeld tells from the update of a lease whether it took: ErrNotFound
// when no row was updated because there is none.
func (t *tx) leaseHeld(ctx context.Context, table, projectID, id string, res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return n == 1, err
	}
	var one int
	if err := queryRow(ctx, t.tx, `SELECT 1 FROM `+table+` WHERE project_id = ? AND id = ?`, projectID, id).Scan(&one); err != nil {
		return false, sqlrow.NotFound(err)
	}
	return false, nil
}

func (t *tx) ExportJobLease(ctx context.Context, projectID, id string) (string, *time.Time, error) {
	return sqlrow.ScanExportJobLease(queryRow(ctx, t.tx, `SELECT `+sqlrow.ExportJobLeaseColumns+` FROM export_jobs WHERE project_id = ? AND id = ?`, projectID, id))
}

func (t *tx) LapsedExportJobs(ctx context.Context, now time.Time, limit int) ([]*snapexport.ExportJob, error) {
	return query(ctx, t.tx, sqlrow.ScanExportJob, `SELECT `+sqlrow.ExportJobColumns+` FROM export_jobs
		WHERE state IN (?, ?) AND lease_until IS NOT NULL AND lease_until < ? ORDER BY seq LIMIT ?`,
		string(snapexport.ExportQueued), string(snapexport.ExportInProgress), now, limit)
}
