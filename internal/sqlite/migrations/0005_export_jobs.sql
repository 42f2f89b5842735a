CREATE TABLE export_jobs (
	seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
	id                   TEXT NOT NULL UNIQUE,
	project_id           TEXT NOT NULL REFERENCES projects(id),
	cluster_id           TEXT NOT NULL,
	cluster_name         TEXT NOT NULL,
	snapshot_id          TEXT NOT NULL,
	export_bucket_id     TEXT NOT NULL,
	parent_id            TEXT NOT NULL DEFAULT '',
	replica_set_name     TEXT NOT NULL DEFAULT '',
	source_snapshot_id   TEXT NOT NULL DEFAULT '',
	components           TEXT NOT NULL DEFAULT '[]',
	custom_data          TEXT NOT NULL DEFAULT '[]',
	prefix               TEXT NOT NULL,
	state                TEXT NOT NULL,
	state_reason         TEXT NOT NULL DEFAULT 'null',
	created_at           TEXT NOT NULL,
	finished_at          TEXT,
	total_collections    INTEGER NOT NULL DEFAULT 0,
	exported_collections INTEGER NOT NULL DEFAULT 0,
	files                INTEGER NOT NULL DEFAULT 0,
	documents            INTEGER NOT NULL DEFAULT 0,
	bytes                INTEGER NOT NULL DEFAULT 0,
	total_documents      INTEGER NOT NULL DEFAULT 0,
	total_bytes          INTEGER NOT NULL DEFAULT 0,
	cancel_requested     INTEGER NOT NULL DEFAULT 0,
	runner               TEXT NOT NULL DEFAULT '',
	lease_until          TEXT
);
CREATE INDEX export_jobs_list ON export_jobs (project_id, cluster_id, parent_id, seq);
CREATE INDEX export_jobs_snapshot ON export_jobs (project_id, snapshot_id, state);
CREATE INDEX export_jobs_bucket ON export_jobs (project_id, export_bucket_id, state);
CREATE INDEX export_jobs_lease ON export_jobs (lease_until) WHERE lease_until IS NOT NULL;
