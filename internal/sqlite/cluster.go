package sqlite

import (
	"context"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/sqlrow"
)

func (t *tx) CreateCluster(ctx context.Context, c *snapexport.Cluster) error {
	return insert(ctx, t.tx, "clusters", sqlrow.ClusterColumns, sqlrow.ClusterValues(c))
}

func (t *tx) Cluster(ctx context.Context, projectID, name string) (*snapexport.Cluster, error) {
	return sqlrow.ScanCluster(queryRow(ctx, t.tx, `SELECT `+sqlrow.ClusterColumns+` FROM clusters WHERE project_id = ? AND name = ? AND removed = 0`, projectID, name))
}

func (t *tx) ListClusters(ctx context.Context, projectID string, page snapexport.Page) ([]*snapexport.Cluster, int, error) {
	return countedPage(ctx, t, sqlrow.ScanCluster, sqlrow.ClusterColumns, "clusters", `project_id = ? AND removed = 0`, []any{projectID}, page)
}

func (t *tx) ClustersExportingTo(ctx context.Context, projectID, bucketID string) ([]*snapexport.Cluster, error) {
	return query(ctx, t.tx, sqlrow.ScanCluster, `SELECT `+sqlrow.ClusterColumns+` FROM clusters WHERE project_id = ? AND export_bucket_id = ? AND removed = 0 ORDER BY seq`, projectID, bucketID)
}

func (t *tx) UpdateClusterSchedule(ctx context.Context, c *snapexport.Cluster) error {
	return affected(exec(ctx, t.tx, `UPDATE clusters SET auto_export_enabled = ?, export_bucket_id = ?, export_frequency_type = ?, use_org_and_group_names = ?,
		policy_id = ?, policy_items = ?, reference_hour_of_day = ?, reference_minute_of_hour = ?, restore_window_days = ?
		WHERE project_id = ? AND id = ?`, sqlrow.ClusterScheduleValues(c)...))
}

func (t *tx) UpdateCluster(ctx context.Context, c *snapexport.Cluster) error {
	return affected(exec(ctx, t.tx, `UPDATE clusters SET labels = ?, tags = ?, mongodb_version = ?, backup_enabled = ?, termination_protection_enabled = ?,
		ready_at = ?, deleting_until = ?, retain_backups = ?, removed = ?,
		deployment_uri_sealed = ?, deployment_public_uri = ?, deployment_hosts = ?, deployment_consistency = ?
		WHERE project_id = ? AND id = ? AND removed = 0`, sqlrow.ClusterUpdateValues(c)...))
}

func (t *tx) RemovedCluster(ctx context.Context, projectID, name string) (*snapexport.Cluster, error) {
	return sqlrow.ScanCluster(queryRow(ctx, t.tx, `SELECT `+sqlrow.ClusterColumns+` FROM clusters WHERE project_id = ? AND name = ? AND removed = 1
		ORDER BY seq DESC LIMIT 1`, projectID, name))
}
