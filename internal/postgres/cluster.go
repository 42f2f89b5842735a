package postgres

import (
	"context"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreateCluster(ctx context.Context, c *snapexport.Cluster) error {
	return t.insertListed(ctx, "clusters/"+c.ProjectID, "cluster", "clusters", sqlrow.ClusterColumns, sqlrow.ClusterValues(c))
}

func (t *tx) Cluster(ctx context.Context, projectID, name string) (*snapexport.Cluster, error) {
	return sqlrow.ScanCluster(t.queryRow(ctx, `SELECT `+sqlrow.ClusterColumns+` FROM clusters WHERE project_id = $1 AND name = $2 AND NOT removed`, projectID, name))
}

func (t *tx) ListClusters(ctx context.Context, projectID string, page snapexport.Page) ([]*snapexport.Cluster, int, error) {
	return countedPage(ctx, t, sqlrow.ScanCluster, sqlrow.ClusterColumns, "clusters", `project_id = $1 AND NOT removed`, []any{projectID}, page)
}

func (t *tx) ClustersExportingTo(ctx context.Context, projectID, bucketID string) ([]*snapexport.Cluster, error) {
	return query(ctx, t, sqlrow.ScanCluster, `SELECT `+sqlrow.ClusterColumns+` FROM clusters WHERE project_id = $1 AND export_bucket_id = $2 AND NOT removed ORDER BY seq`, projectID, bucketID)
}

func (t *tx) UpdateClusterSchedule(ctx context.Context, c *snapexport.Cluster) error {
	return affected(t.exec(ctx, `UPDATE clusters SET auto_export_enabled = $1, export_bucket_id = $2, export_frequency_type = $3, use_org_and_group_names = $4,
		policy_id = $5, policy_items = $6, reference_hour_of_day = $7, reference_minute_of_hour = $8, restore_window_days = $9
		WHERE project_id = $10 AND id = $11`, sqlrow.ClusterScheduleValues(c)...))
}

func (t *tx) UpdateCluster(ctx context.Context, c *snapexport.Cluster) error {
	return affected(t.exec(ctx, `UPDATE clusters SET labels = $1, tags = $2, mongodb_version = $3, backup_enabled = $4, termination_protection_enabled = $5,
		ready_at = $6, deleting_until = $7, retain_backups = $8, removed = $9,
		deployment_uri_sealed = $10, deployment_public_uri = $11, deployment_hosts = $12, deployment_consistency = $13
		WHERE project_id = $14 AND id = $15 AND NOT removed`, sqlrow.ClusterUpdateValues(c)...))
}

func (t *tx) RemovedCluster(ctx context.Context, projectID, name string) (*snapexport.Cluster, error) {
	return sqlrow.ScanCluster(t.queryRow(ctx, `SELECT `+sqlrow.ClusterColumns+` FROM clusters WHERE project_id = $1 AND name = $2 AND removed
		ORDER BY seq DESC LIMIT 1`, projectID, name))
}
