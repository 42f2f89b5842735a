package sqlrow

import (
	"cmp"

	"github.com/snapexport/snapexport"
)

// ClusterColumns are the columns of clusters that ClusterValues fills and
// ScanCluster reads, in that order. Labels, tags, shards and policy items
// are kept as JSON text.
const ClusterColumns = `id, project_id, name, cluster_type, mongodb_version, provider_name, region_name, instance_size, labels, shards, auto_export_enabled, export_bucket_id, export_frequency_type, use_org_and_group_names, ` +
	`policy_id, policy_items, reference_hour_of_day, reference_minute_of_hour, restore_window_days, created_at, ` +
	`tags, backup_enabled, termination_protection_enabled, ready_at, deleting_until, retain_backups, removed, ` +
	`deployment_uri_sealed, deployment_public_uri, deployment_hosts, deployment_consistency`

func ClusterValues(c *snapexport.Cluster) []any {
	return append([]any{c.ID, c.ProjectID, c.Name, string(c.Type), c.MongoDBVersion, string(c.Provider), c.Region, c.InstanceSize, storedList(c.Labels), storedList(c.Shards),
		c.Schedule.AutoExportEnabled, c.Schedule.ExportBucketID, c.Schedule.ExportFrequencyType, c.Schedule.UseOrgAndGroupNamesInExportPrefix,
		c.Schedule.PolicyID, storedList(c.Schedule.PolicyItems), c.Schedule.ReferenceHourOfDay, c.Schedule.ReferenceMinuteOfHour, c.Schedule.RestoreWindowDays,
		c.CreatedAt, storedList(c.Tags), c.BackupEnabled, c.TerminationProtectionEnabled, c.ReadyAt, c.DeletingUntil, c.RetainBackups, c.Removed},
		deploymentValues(c.Deployment)...)
}

// deploymentValues are the values of the deployment_* columns: a NULL
// sealed URI when the cluster is bound to no deployment.
func deploymentValues(d *snapexport.Deployment) []any {
	if d == nil {
		return []any{nil, "", "[]", ""}
	}
	return []any{d.SealedURI, d.PublicURI, storedList(d.Hosts), string(d.Consistency)}
}

func ScanCluster(s Scanner) (*snapexport.Cluster, error) {
	var c snapexport.Cluster
	var labels, tags, shards, items string
	var d snapexport.Deployment
	var hosts, consistency string
	sched := &c.Schedule
	err := s.Scan(&c.ID, &c.ProjectID, &c.Name, (*string)(&c.Type), &c.MongoDBVersion, (*string)(&c.Provider), &c.Region, &c.InstanceSize,
		&labels, &shards, &sched.AutoExportEnabled,
		&sched.ExportBucketID, &sched.ExportFrequencyType, &sched.UseOrgAndGroupNamesInExportPrefix,
		&sched.PolicyID, &items, &sched.ReferenceHourOfDay, &sched.ReferenceMinuteOfHour, &sched.RestoreWindowDays, timeColumn{&c.CreatedAt},
		&tags, &c.BackupEnabled, &c.TerminationProtectionEnabled, timeColumn{&c.ReadyAt}, nullTimeColumn{&c.DeletingUntil}, &c.RetainBackups, &c.Removed,
		&d.SealedURI, &d.PublicURI, &hosts, &consistency)
	if err != nil {
		return nil, NotFound(err)
	}
	err = cmp.Or(loadList(labels, &c.Labels, "cluster", c.ID, "labels"),
		loadList(tags, &c.Tags, "cluster", c.ID, "tags"),
		loadList(shards, &c.Shards, "cluster", c.ID, "shards"),
		loadList(items, &sched.PolicyItems, "cluster", c.ID, "policy_items"),
		loadList(hosts, &d.Hosts, "cluster", c.ID, "deployment_hosts"))
	if err != nil {
		return nil, err
	}
	if d.SealedURI != nil {
		d.Consistency = snapexport.Consistency(consistency)
		c.Deployment = &d
	}
	return &c, nil
}

// ClusterScheduleValues are the values of an update of a cluster's
// schedule (Tx.UpdateClusterSchedule): auto_export_enabled,
// export_bucket_id, export_frequency_type, use_org_and_group_names,
// policy_id, policy_items, reference_hour_of_day, reference_minute_of_hour
// and restore_window_days, then the project_id and id of the row.
func ClusterScheduleValues(c *snapexport.Cluster) []any {
	s := c.Schedule
	return []any{s.AutoExportEnabled, s.ExportBucketID, s.ExportFrequencyType, s.UseOrgAndGroupNamesInExportPrefix,
		s.PolicyID, storedList(s.PolicyItems), s.ReferenceHourOfDay, s.ReferenceMinuteOfHour, s.RestoreWindowDays, c.ProjectID, c.ID}
}

// ClusterUpdateValues are the values of an update of what a cluster's
// owner may change and its life (Tx.UpdateCluster): labels, tags,
// mongodb_version, backup_enabled, termination_protection_enabled,
// ready_at, deleting_until, retain_backups, removed and the four
// deployment_* columns, then the project_id and id of the row.
func ClusterUpdateValues(c *snapexport.Cluster) []any {
	values := []any{storedList(c.Labels), storedList(c.Tags), c.MongoDBVersion, c.BackupEnabled, c.TerminationProtectionEnabled,
		c.ReadyAt, c.DeletingUntil, c.RetainBackups, c.Removed}
	return append(append(values, deploymentValues(c.Deployment)...), c.ProjectID, c.ID)
}
