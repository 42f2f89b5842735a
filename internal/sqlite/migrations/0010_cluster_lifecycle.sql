-- Clusters made and deleted through Atlas's API: their tags, backup and
-- termination-protection settings, when their last change is applied
-- (ready_at; clusters registered before were ready when registered), when
-- a deletion asked for ends and whether their snapshots outlive them. A
-- cluster whose deletion has ended is kept, removed, for the snapshots it
-- retained, and frees its name: the name is unique among the clusters not
-- removed only. SQLite cannot drop the table's UNIQUE (project_id, name),
-- so the table is built anew with the same rows.
CREATE TABLE clusters_rebuilt (
	seq                            INTEGER PRIMARY KEY AUTOINCREMENT,
	id                             TEXT NOT NULL UNIQUE,
	project_id                     TEXT NOT NULL REFERENCES projects(id),
	name                           TEXT NOT NULL,
	cluster_type                   TEXT NOT NULL,
	mongodb_version                TEXT NOT NULL,
	labels                         TEXT NOT NULL DEFAULT '[]',
	shards                         TEXT NOT NULL DEFAULT '[]',
	auto_export_enabled            INTEGER NOT NULL DEFAULT 0,
	export_bucket_id               TEXT NOT NULL DEFAULT '',
	export_frequency_type          TEXT NOT NULL DEFAULT '',
	use_org_and_group_names        INTEGER NOT NULL DEFAULT 0,
	created_at                     TEXT NOT NULL,
	policy_id                      TEXT NOT NULL DEFAULT '',
	policy_items                   TEXT NOT NULL DEFAULT '[]',
	reference_hour_of_day          INTEGER NOT NULL DEFAULT 0,
	reference_minute_of_hour       INTEGER NOT NULL DEFAULT 0,
	restore_window_days            INTEGER NOT NULL DEFAULT 7,
	provider_name                  TEXT NOT NULL DEFAULT 'AWS',
	region_name                    TEXT NOT NULL DEFAULT 'US_EAST_1',
	instance_size                  TEXT NOT NULL DEFAULT 'M10',
	tags                           TEXT NOT NULL DEFAULT '[]',
	backup_enabled                 INTEGER NOT NULL DEFAULT 1,
	termination_protection_enabled INTEGER NOT NULL DEFAULT 0,
	ready_at                       TEXT NOT NULL,
	deleting_until                 TEXT,
	retain_backups                 INTEGER NOT NULL DEFAULT 0,
	removed                        INTEGER NOT NULL DEFAULT 0
);
INSERT INTO clusters_rebuilt (seq, id, project_id, name, cluster_type, mongodb_version, labels, shards, auto_export_enabled,
	export_bucket_id, export_frequency_type, use_org_and_group_names, created_at, policy_id, policy_items, reference_hour_of_day,
	reference_minute_of_hour, restore_window_days, provider_name, region_name, instance_size, ready_at)
SELECT seq, id, project_id, name, cluster_type, mongodb_version, labels, shards, auto_export_enabled,
	export_bucket_id, export_frequency_type, use_org_and_group_names, created_at, policy_id, policy_items, reference_hour_of_day,
	reference_minute_of_hour, restore_window_days, provider_name, region_name, instance_size, created_at
FROM clusters;
DROP TABLE clusters;
ALTER TABLE clusters_rebuilt RENAME TO clusters;
CREATE UNIQUE INDEX clusters_name ON clusters (project_id, name) WHERE removed = 0;
CREATE INDEX clusters_removed_name ON clusters (project_id, name, seq) WHERE removed = 1;
CREATE INDEX clusters_export_bucket ON clusters (project_id, export_bucket_id);
