CREATE TABLE clusters (
	seq                     INTEGER PRIMARY KEY AUTOINCREMENT,
	id                      TEXT NOT NULL UNIQUE,
	project_id              TEXT NOT NULL REFERENCES projects(id),
	name                    TEXT NOT NULL,
	cluster_type            TEXT NOT NULL,
	mongodb_version         TEXT NOT NULL,
	labels                  TEXT NOT NULL DEFAULT '[]',
	shards                  TEXT NOT NULL DEFAULT '[]',
	auto_export_enabled     INTEGER NOT NULL DEFAULT 0,
	export_bucket_id        TEXT NOT NULL DEFAULT '',
	export_frequency_type   TEXT NOT NULL DEFAULT '',
	use_org_and_group_names INTEGER NOT NULL DEFAULT 0,
	created_at              TEXT NOT NULL,
	UNIQUE (project_id, name)
);
CREATE INDEX clusters_export_bucket ON clusters (project_id, export_bucket_id);
