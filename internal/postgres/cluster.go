package postgres

import (
	"context"

	"github.com/snapexport/snapexport"
)

const clusterColumns = `id, project_id, name, cluster_type, mongodb_version, labels, shards, auto_export_enabled, export_bucket_id, export_frequency_type, use_org_and_group_names, created_at`

func scanCluster(s scanner) (*snapexport.Cluster, error) {
	var c snapexport.Cluster
	var typ, labels, shards string
	err := s.Scan(&c.ID, &c.ProjectID, &c.Name, &typ, &c.MongoDBVersion, &labels, &shards, &c.Schedule.AutoExportEnabled,
		&c.Schedule.ExportBucketID, &c.Schedule.ExportFrequencyType, &c.Schedule.UseOrgAndGroupNamesInExportPrefix, &c.CreatedAt)
	if err != nil {
		return nil, notFound(err)
	}
	c.Type = snapexport.ClusterType(typ)
	c.CreatedAt = utc(c.CreatedAt)
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
	if err := t.lockListOrder(ctx, "clusters/"+c.ProjectID); err != nil {
		return err
	}
	return inserted("cluster")(t.exec(ctx, `INSERT INTO clusters (`+clusterColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
		c.ID, c.ProjectID, c.Name, string(c.Type), c.MongoDBVersion, labels, shards, c.Schedule.AutoExportEnabled,
		c.Schedule.ExportBucketID, c.Schedule.ExportFrequencyType, c.Schedule.UseOrgAndGroupNamesInExportPrefix, c.CreatedAt))
}

func (t *tx) Cluster(ctx context.Context, projectID, name string) (*snapexport.Cluster, error) {
	return scanCluster(t.queryRow(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE project_id = $1 AND name = $2`, projectID, name))
}

func (t *tx) ListClusters(ctx context.Context, projectID string, page snapexport.Page) ([]*snapexport.Cluster, int, error) {
	var total int
	if err := t.queryRow(ctx, `SELECT count(*) FROM clusters WHERE project_id = $1`, projectID).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit, offset := limitOffset(page)
	out, err := query(ctx, t, scanCluster, `SELECT `+clusterColumns+` FROM clusters WHERE project_id = $1 ORDER BY seq LIMIT $2 OFFSET $3`,
		projectID, limit, offset)
	return out, total, err
}

func (t *tx) ClustersExportingTo(ctx context.Context, projectID, bucketID string) ([]*snapexport.Cluster, error) {
	return query(ctx, t, scanCluster, `SELECT `+clusterColumns+` FROM clusters WHERE project_id = $1 AND export_bucket_id = $2 ORDER BY seq`, projectID, bucketID)
}

func (t *tx) UpdateClusterSchedule(ctx context.Context, c *snapexport.Cluster) error {
	s := c.Schedule
	return affected(t.exec(ctx, `UPDATE clusters SET auto_export_enabled = $1, export_bucket_id = $2, export_frequency_type = $3, use_org_and_group_names = $4
		WHERE project_id = $5 AND id = $6`,
		s.AutoExportEnabled, s.ExportBucketID, s.ExportFrequencyType, s.UseOrgAndGroupNamesInExportPrefix, c.ProjectID, c.ID))
}
