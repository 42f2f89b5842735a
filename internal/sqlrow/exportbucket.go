package sqlrow

import "github.com/snapexport/snapexport"

// ExportBucketColumns are the columns of export_buckets (and
// removed_export_buckets) that ExportBucketValues fills and
// ScanExportBucket reads, in that order.
const ExportBucketColumns = `id, project_id, provider, bucket_name, role_id, region, require_private_networking, service_url, tenant_id, created_at`

func ExportBucketValues(b *snapexport.ExportBucket) []any {
	return []any{b.ID, b.ProjectID, string(b.Provider), b.BucketName, b.RoleID, b.Region, b.RequirePrivateNetworking,
		b.ServiceURL, b.TenantID, b.CreatedAt}
}

func ScanExportBucket(s Scanner) (*snapexport.ExportBucket, error) {
	var b snapexport.ExportBucket
	err := s.Scan(&b.ID, &b.ProjectID, (*string)(&b.Provider), &b.BucketName, &b.RoleID, &b.Region, &b.RequirePrivateNetworking,
		&b.ServiceURL, &b.TenantID, timeColumn{&b.CreatedAt})
	if err != nil {
		return nil, NotFound(err)
	}
	return &b, nil
}

// ExportBucketUpdateValues are the values of an update of a bucket
// (Tx.UpdateExportBucket): require_private_networking and region, then the
// project_id and id of the row.
func ExportBucketUpdateValues(b *snapexport.ExportBucket) []any {
	return []any{b.RequirePrivateNetworking, b.Region, b.ProjectID, b.ID}
}
