package postgres

import (
	"context"
	"time"

	"github.com/snapexport/snapexport"
)

const bucketColumns = `id, project_id, provider, bucket_name, role_id, region, require_private_networking, service_url, tenant_id, created_at`

func scanBucket(s scanner) (*snapexport.ExportBucket, error) {
	var b snapexport.ExportBucket
	var provider string
	err := s.Scan(&b.ID, &b.ProjectID, &provider, &b.BucketName, &b.RoleID, &b.Region, &b.RequirePrivateNetworking,
		&b.ServiceURL, &b.TenantID, &b.CreatedAt)
	if err != nil {
		return nil, notFound(err)
	}
	b.Provider = snapexport.CloudProvider(provider)
	b.CreatedAt = utc(b.CreatedAt)
	return &b, nil
}

func (t *tx) CreateExportBucket(ctx context.Context, b *snapexport.ExportBucket) error {
	if err := t.lockListOrder(ctx, "export_buckets/"+b.ProjectID); err != nil {
		return err
	}
	return inserted("export bucket")(t.exec(ctx, `INSERT INTO export_buckets (`+bucketColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		b.ID, b.ProjectID, string(b.Provider), b.BucketName, b.RoleID, b.Region, b.RequirePrivateNetworking,
		b.ServiceURL, b.TenantID, b.CreatedAt))
}

func (t *tx) ExportBucket(ctx context.Context, projectID, id string) (*snapexport.ExportBucket, error) {
	return scanBucket(t.queryRow(ctx, `SELECT `+bucketColumns+` FROM export_buckets WHERE project_id = $1 AND id = $2`, projectID, id))
}

func (t *tx) ListExportBuckets(ctx context.Context, projectID string, providers []snapexport.CloudProvider, page snapexport.Page) ([]*snapexport.ExportBucket, int, error) {
	where := `project_id = $1`
	args := []any{projectID}
	if len(providers) > 0 {
		names := make([]string, len(providers))
		for i, p := range providers {
			names[i] = string(p)
		}
		where += ` AND provider = ANY($2)`
		args = append(args, names)
	}
	return pageOf(ctx, t, scanBucket, "export_buckets", bucketColumns, where, args, page, func(m snapexport.ListMark) int64 { return m.Buckets })
}

func (t *tx) ExportBucketsByRole(ctx context.Context, projectID, roleID string) ([]*snapexport.ExportBucket, error) {
	return query(ctx, t, scanBucket, `SELECT `+bucketColumns+` FROM export_buckets WHERE project_id = $1 AND role_id = $2 ORDER BY seq`, projectID, roleID)
}

func (t *tx) UpdateExportBucket(ctx context.Context, b *snapexport.ExportBucket) error {
	return affected(t.exec(ctx, `UPDATE export_buckets SET require_private_networking = $1, region = $2 WHERE project_id = $3 AND id = $4`,
		b.RequirePrivateNetworking, b.Region, b.ProjectID, b.ID))
}

func (t *tx) DeleteExportBucket(ctx context.Context, projectID, id string, at time.Time) error {
	if err := t.remove(ctx, "export_buckets", bucketColumns, projectID, id, at); err != nil {
		return err
	}
	return affected(t.exec(ctx, `DELETE FROM export_buckets WHERE project_id = $1 AND id = $2`, projectID, id))
}
