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
	if err := s.Scan(exportBucketDest(&b)...); err != nil {
		return nil, NotFound(err)
	}
	return &b, nil
}

// exportBucketDest lists the destinations of b's columns, in
// ExportBucketColumns order.
func exportBucketDest(b *snapexport.ExportBucket) []any {
	return []any{&b.ID, &b.ProjectID, (*string)(&b.Provider), &b.BucketName, &b.RoleID, &b.Region, &b.RequirePrivateNetworking,
		&b.ServiceURL, &b.TenantID, timeColumn{&b.CreatedAt}}
}

// ExportBucketRows scans the buckets of a list page as ScanExportBucket
// does a bucket: through one list of destinations, kept, and into buckets
// allocated a block at a time, so that a row of a 500-bucket page
// allocates nothing of its own but its strings; the garbage of list pages
// is what sets how often a busy server collects it.
type ExportBucketRows struct {
	row   snapexport.ExportBucket
	dest  []any
	block []snapexport.ExportBucket
}

// exportBucketBlock is how many buckets ExportBucketRows allocates at once.
const exportBucketBlock = 64

func (r *ExportBucketRows) Scan(s Scanner) (*snapexport.ExportBucket, error) {
	if r.dest == nil {
		r.dest = exportBucketDest(&r.row)
	}
	r.row = snapexport.ExportBucket{}
	if err := s.Scan(r.dest...); err != nil {
		return nil, NotFound(err)
	}
	if len(r.block) == 0 {
		r.block = make([]snapexport.ExportBucket, exportBucketBlock)
	}
	b := &r.block[0]
	*b, r.block = r.row, r.block[1:]
	return b, nil
}

// ExportBucketUpdateValues are the values of an update of a bucket
// (Tx.UpdateExportBucket): require_private_networking and region, then the
// project_id and id of the row.
func ExportBucketUpdateValues(b *snapexport.ExportBucket) []any {
	return []any{b.RequirePrivateNetworking, b.Region, b.ProjectID, b.ID}
}
