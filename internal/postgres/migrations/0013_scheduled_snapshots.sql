-- sqlite/migrations/0011_scheduled_snapshots.sql in PostgreSQL's types.
ALTER TABLE snapshots ADD COLUMN policy_items text NOT NULL DEFAULT '[]';
ALTER TABLE removed_snapshots ADD COLUMN policy_items text NOT NULL DEFAULT '[]';
CREATE TABLE scheduled_snapshot_claims (
	cluster_id   text NOT NULL,
	scheduled_at timestamptz NOT NULL,
	project_id   text NOT NULL,
	PRIMARY KEY (cluster_id, scheduled_at)
);
