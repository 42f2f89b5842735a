-- sqlite/migrations/0005_export_jobs.sql in PostgreSQL's types.
CREATE TABLE export_jobs (
	seq                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id                   text NOT NULL UNIQUE,
	project_id           text NOT NULL REFERENCES projects (id),
	cluster_id           text NOT NULL,
	cluster_name         text NOT NULL,
	snapshot_id          text NOT NULL,
	export_bucket_id     text NOT NULL,
	parent_id            text NOT NULL DEFAULT '',
	replica_set_name     text NOT NULL DEFAULT '',
	source_snapshot_id   text NOT NULL DEFAULT '',
	components           text NOT NULL DEFAULT '[]',
	custom_data          text NOT NULL DEFAULT '[]',
	prefix               text NOT NULL,
	state                text NOT NULL,
	state_reason         text NOT NULL DEFAULT 'null',
	created_at           timestamptz NOT NULL,
	finished_at          timestamptz,
	total_collections    bigint NOT NULL DEFAULT 0,
	exported_collections bigint NOT NULL DEFAULT 0,
	files                bigint NOT NULL DEFAULT 0,
	documents            bigint NOT NULL DEFAULT 0,
	bytes                bigint NOT NULL DEFAULT 0,
	total_documents      bigint NOT NULL DEFAULT 0,
	total_bytes          bigint NOT NULL DEFAULT 0,
	cancel_requested     boolean NOT NULL DEFAULT false,
	runner               text NOT NULL DEFAULT '',
	lease_until          timestamptz
);
CREATE INDEX export_jobs_list ON export_jobs (project_id, cluster_id, parent_id, seq);
CREATE INDEX export_jobs_snapshot ON export_jobs (project_id, snapshot_id, state);
CREATE INDEX export_jobs_bucket ON export_jobs (project_id, export_bucket_id, state);
CREATE INDEX export_jobs_lease ON export_jobs (lease_until) WHERE lease_until IS NOT NULL;
