package sqlite

import (
	"context"
	"time"

	"github.com/snapexport/snapexport"
)

const bucketColumns = `id, project_id, provider, bucket_name, role_id, region, require_private_networking, service_url, tenant_id, created_at`

func scanBucket(s interface{ Scan(...any) error }) (*snapexport.ExportBucket, error) {
	var b snapexport.ExportBucket
	var provider, created string
	err := s.Scan(&b.ID, &b.ProjectID, &provider, &b.BucketName, &b.RoleID, &b.Region, &b.RequirePrivateNetworking,
		&b.ServiceURL, &b.TenantID, &created)
	if err != nil {
		return nil, notFound(err)
	}
	b.Provider = snapexport.CloudProvider(provider)
	b.CreatedAt = parseTime(created)
	return &b, nil
}

func (t *tx) CreateExportBucket(ctx context.Context, b *snapexport.ExportBucket) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO export_buckets (`+bucketColumns+`) VALUES (`+placeholders(10)+`)`,
		b.ID, b.ProjectID, string(b.Provider), b.BucketName, b.RoleID, b.Region, b.RequirePrivateNetworking,
		b.ServiceURL, b.TenantID, formatTime(b.CreatedAt))
	return conflict(err)
}

func (t *tx) ExportBucket(ctx context.Context, projectID, id string) (*snapexport.ExportBucket, error) {
	return scanBucket(t.tx.QueryRowContext(ctx, `SELECT `+bucketColumns+` FROM export_buckets WHERE project_id = ? AND id = ?`, projectID, id))
}

func (t *tx) ListExportBuckets(ctx context.Context, projectID string, providers []snapexport.CloudProvider, page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
	where := `project_id = ?`
	args := []any{projectID}
	if len(providers) > 0 {
		where += ` AND provider IN (` + placeholders(len(providers)) + `)`
		for _, p := range providers {
			args = append(args, string(p))
		}
	}
	return pageOf(ctx, t, scanBucket, "export_buckets", bucketColumns, where, args, page, func(m snapexport.ListMark) int64 { return m.Buckets })
}

func (t *tx) ExportBucketsByRole(ctx context.Context, projectID, roleID string) ([]*snapexport.ExportBucket, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+bucketColumns+` FROM export_buckets WHERE project_id = ? AND role_id = ? ORDER BY seq`, projectID, roleID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanBucket)
}

func (t *tx) UpdateExportBucket(ctx context.Context, b *snapexport.ExportBucket) error {
	return affected(t.tx.ExecContext(ctx, `UPDATE export_buckets SET require_private_networking = ?, region = ? WHERE project_id = ? AND id = ?`,
		b.RequirePrivateNetworking, b.Region, b.ProjectID, b.ID))
}

func (t *tx) DeleteExportBucket(ctx context.Context, projectID, id string, at time.Time) error {
	if err := t.remove(ctx, "export_buckets", bucketColumns, projectID, id, at); err != nil {
		return err
	}
	return affected(t.tx.ExecContext(ctx, `DELETE FROM export_buckets WHERE project_id = ? AND id = ?`, projectID, id))
}
