-- Scheduled snapshots name the policy items they were taken for (JSON
-- list of ids), and each instant of a cluster's backup schedule is claimed
-- once, by the one server among replicas that takes its snapshot.
ALTER TABLE snapshots ADD COLUMN policy_items TEXT NOT NULL DEFAULT '[]';
ALTER TABLE removed_snapshots ADD COLUMN policy_items TEXT NOT NULL DEFAULT '[]';
CREATE TABLE scheduled_snapshot_claims (
	cluster_id   TEXT NOT NULL,
	scheduled_at TEXT NOT NULL,
	project_id   TEXT NOT NULL,
	PRIMARY KEY (cluster_id, scheduled_at)
);
