CREATE TABLE snapshots (
	seq                INTEGER PRIMARY KEY AUTOINCREMENT,
	id                 TEXT NOT NULL UNIQUE,
	project_id         TEXT NOT NULL REFERENCES projects(id),
	cluster_id         TEXT NOT NULL,
	cluster_name       TEXT NOT NULL,
	kind               TEXT NOT NULL,
	parent_id          TEXT NOT NULL DEFAULT '',
	replica_set_name   TEXT NOT NULL DEFAULT '',
	members            TEXT NOT NULL DEFAULT '[]',
	description        TEXT NOT NULL DEFAULT '',
	snapshot_type      TEXT NOT NULL,
	frequency_type     TEXT NOT NULL,
	status             TEXT NOT NULL,
	mongod_version     TEXT NOT NULL,
	cloud_provider     TEXT NOT NULL,
	storage_size_bytes INTEGER NOT NULL DEFAULT 0,
	created_at         TEXT NOT NULL,
	expires_at         TEXT NOT NULL,
	imported_at        TEXT NOT NULL,
	collections        TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX snapshots_list ON snapshots (project_id, cluster_id, kind, parent_id, seq);
CREATE INDEX snapshots_expiry ON snapshots (expires_at);
CREATE INDEX snapshots_taken ON snapshots (project_id, cluster_id, created_at);
