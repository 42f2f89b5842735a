package sqlite

import (
	"context"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreateExportBucket(ctx context.Context, b *snapexport.ExportBucket) error {
	return insert(ctx, t.tx, "export_buckets", sqlrow.ExportBucketColumns, sqlrow.ExportBucketValues(b))
}

func (t *tx) ExportBucket(ctx context.Context, projectID, id string) (*snapexport.ExportBucket, error) {
	return sqlrow.ScanExportBucket(queryRow(ctx, t.tx, `SELECT `+sqlrow.ExportBucketColumns+` FROM export_buckets WHERE project_id = ? AND id = ?`, projectID, id))
}

func (t *tx) ListExportBuckets(ctx context.Context, projectID string, providers []snapexport.CloudProvider, page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
	where := `project_id = ?`
	args := []any{projectID}
	parts := make([]string, len(providers))
	if len(providers) > 0 {
		where += ` AND provider IN (` + placeholders(len(providers)) + `)`
		for i, p := range providers {
			args = append(args, string(p))
			parts[i] = string(p)
		}
	}
	// A page reads each bucket from its packed column (migration 0015).
	var packed packedRow
	var buckets sqlrow.ExportBucketRows
	scan := func(s sqlrow.Scanner) (*snapexport.ExportBucket, error) { return buckets.Scan(packed.Of(s)) }
	return pageOf(ctx, t, scan, "export_buckets", "packed", where, args, page,
		func(m snapexport.ListMark) int64 { return m.Buckets }, projectID, parts...)
}

func (t *tx) ExportBucketsByRole(ctx context.Context, projectID, roleID string) ([]*snapexport.ExportBucket, error) {
	return query(ctx, t.tx, sqlrow.ScanExportBucket, `SELECT `+sqlrow.ExportBucketColumns+` FROM export_buckets WHERE project_id = ? AND role_id = ? ORDER BY seq`, projectID, roleID)
}

func (t *tx) UpdateExportBucket(ctx context.Context, b *snapexport.ExportBucket) error {
	return affected(exec(ctx, t.tx, `UPDATE export_buckets SET require_private_networking = ?, region = ? WHERE project_id = ? AND id = ?`,
		sqlrow.ExportBucketUpdateValues(b)...))
}

func (t *tx) DeleteExportBucket(ctx context.Context, projectID, id string, at time.Time) error {
	return t.deleteListed(ctx, "export_buckets", sqlrow.ExportBucketColumns, projectID, id, at)
}
