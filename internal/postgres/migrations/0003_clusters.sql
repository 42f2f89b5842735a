-- sqlite/migrations/0003_clusters.sql in PostgreSQL's types.
CREATE TABLE clusters (
	seq                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id                      text NOT NULL UNIQUE,
	project_id              text NOT NULL REFERENCES projects (id),
	name                    text NOT NULL,
	cluster_type            text NOT NULL,
	mongodb_version         text NOT NULL,
	labels                  text NOT NULL DEFAULT '[]',
	shards                  text NOT NULL DEFAULT '[]',
	auto_export_enabled     boolean NOT NULL DEFAULT false,
	export_bucket_id        text NOT NULL DEFAULT '',
	export_frequency_type   text NOT NULL DEFAULT '',
	use_org_and_group_names boolean NOT NULL DEFAULT false,
	created_at              timestamptz NOT NULL,
	UNIQUE (project_id, name)
);
CREATE INDEX clusters_export_bucket ON clusters (project_id, export_bucket_id);
