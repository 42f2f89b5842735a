package sqlite

import (
	"context"

	"github.com/snapexport/snapexport"
)

const clusterColumns = `id, project_id, name, cluster_type, mongodb_version, labels, shards, auto_export_enabled, export_bucket_id, export_frequency_type, use_org_and_group_names, created_at`

func scanCluster(s interface{ Scan(...any) error }) (*snapexport.Cluster, error) {
	var c snapexport.Cluster
	var typ, labels, shards, created string
	err := s.Scan(&c.ID, &c.ProjectID, &c.Name, &typ, &c.MongoDBVersion, &labels, &shards, &c.Schedule.AutoExportEnabled,
		&c.Schedule.ExportBucketID, &c.Schedule.ExportFrequencyType, &c.Schedule.UseOrgAndGroupNamesInExportPrefix, &created)
	if err != nil {
		return nil, notFound(err)
	}
	c.Type = snapexport.ClusterType(typ)
	c.CreatedAt = parseTime(created)
	if err := snapexport.DecodeClusterLists(&c, labels, shards); err != nil {
		return nil, err
	}
	return &c, nil
}

func (t *tx) CreateCluster(ctx context.Context, c *snapexport.Cluster) error {
	labels, shards, err := snapexport.EncodeClusterLists(c)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO clusters (`+clusterColumns+`) VALUES (`+placeholders(12)+`)`,
		c.ID, c.ProjectID, c.Name, string(c.Type), c.MongoDBVersion, labels, shards, c.Schedule.AutoExportEnabled,
		c.Schedule.ExportBucketID, c.Schedule.ExportFrequencyType, c.Schedule.UseOrgAndGroupNamesInExportPrefix, formatTime(c.CreatedAt))
	return conflict(err)
}

func (t *tx) Cluster(ctx context.Context, projectID, name string) (*snapexport.Cluster, error) {
	return scanCluster(t.tx.QueryRowContext(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE project_id = ? AND name = ?`, projectID, name))
}

func (t *tx) ListClusters(ctx context.Context, projectID string, page snapexport.Page) ([]*snapexport.Cluster, int, error) {
	var total int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM clusters WHERE project_id = ?`, projectID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE project_id = ? ORDER BY seq`+limitOffset(page), projectID)
	if err != nil {
		return nil, 0, err
	}
	out, err := collect(rows, scanCluster)
	return out, total, err
}

func (t *tx) ClustersExportingTo(ctx context.Context, projectID, bucketID string) ([]*snapexport.Cluster, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE project_id = ? AND export_bucket_id = ? ORDER BY seq`, projectID, bucketID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanCluster)
}

func (t *tx) UpdateClusterSchedule(ctx context.Context, c *snapexport.Cluster) error {
	s := c.Schedule
	return affected(t.tx.ExecContext(ctx, `UPDATE clusters SET auto_export_enabled = ?, export_bucket_id = ?, export_frequency_type = ?, use_org_and_group_names = ?
		WHERE project_id = ? AND id = ?`,
		s.AutoExportEnabled, s.ExportBucketID, s.ExportFrequencyType, s.UseOrgAndGroupNamesInExportPrefix, c.ProjectID, c.ID))
}
