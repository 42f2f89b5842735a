-- sqlite/migrations/0004_snapshots.sql in PostgreSQL's types.
CREATE TABLE snapshots (
	seq                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id                 text NOT NULL UNIQUE,
	project_id         text NOT NULL REFERENCES projects (id),
	cluster_id         text NOT NULL,
	cluster_name       text NOT NULL,
	kind               text NOT NULL,
	parent_id          text NOT NULL DEFAULT '',
	replica_set_name   text NOT NULL DEFAULT '',
	members            text NOT NULL DEFAULT '[]',
	description        text NOT NULL DEFAULT '',
	snapshot_type      text NOT NULL,
	frequency_type     text NOT NULL,
	status             text NOT NULL,
	mongod_version     text NOT NULL,
	cloud_provider     text NOT NULL,
	storage_size_bytes bigint NOT NULL DEFAULT 0,
	created_at         timestamptz NOT NULL,
	expires_at         timestamptz NOT NULL,
	imported_at        timestamptz NOT NULL,
	collections        text NOT NULL DEFAULT '[]'
);
CREATE INDEX snapshots_list ON snapshots (project_id, cluster_id, kind, parent_id, seq);
CREATE INDEX snapshots_expiry ON snapshots (expires_at);
CREATE INDEX snapshots_taken ON snapshots (project_id, cluster_id, created_at);
