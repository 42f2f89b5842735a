package postgres

import (
	"context"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreateExportBucket(ctx context.Context, b *snapexport.ExportBucket) error {
	return t.insertListed(ctx, "export_buckets/"+b.ProjectID, "export bucket", "export_buckets", sqlrow.ExportBucketColumns, sqlrow.ExportBucketValues(b))
}

func (t *tx) ExportBucket(ctx context.Context, projectID, id string) (*snapexport.ExportBucket, error) {
	return sqlrow.ScanExportBucket(t.queryRow(ctx, `SELECT `+sqlrow.ExportBucketColumns+` FROM export_buckets WHERE project_id = $1 AND id = $2`, projectID, id))
}

func (t *tx) ListExportBuckets(ctx context.Context, projectID string, providers []snapexport.CloudProvider, page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
	where := `project_id = $1`
	args := []any{projectID}
	names := make([]string, len(providers))
	if len(providers) > 0 {
		for i, p := range providers {
			names[i] = string(p)
		}
		where += ` AND provider = ANY($2)`
		args = append(args, names)
	}
	var buckets sqlrow.ExportBucketRows
	return pageOf(ctx, t, buckets.Scan, "export_buckets", sqlrow.ExportBucketColumns, where, args, page,
		func(m snapexport.ListMark) int64 { return m.Buckets }, projectID, names...)
}

func (t *tx) ExportBucketsByRole(ctx context.Context, projectID, roleID string) ([]*snapexport.ExportBucket, error) {
	return query(ctx, t, sqlrow.ScanExportBucket, `SELECT `+sqlrow.ExportBucketColumns+` FROM export_buckets WHERE project_id = $1 AND role_id = $2 ORDER BY seq`, projectID, roleID)
}

func (t *tx) UpdateExportBucket(ctx context.Context, b *snapexport.ExportBucket) error {
	return affected(t.exec(ctx, `UPDATE export_buckets SET require_private_networking = $1, region = $2 WHERE project_id = $3 AND id = $4`,
		sqlrow.ExportBucketUpdateValues(b)...))
}

func (t *tx) DeleteExportBucket(ctx context.Context, projectID, id string, at time.Time) error {
	return t.deleteListed(ctx, "export_buckets", sqlrow.ExportBucketColumns, projectID, id, at)
}
