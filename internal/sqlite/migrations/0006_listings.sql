-- Removed items stay listable for the passes that began before their
-- removal (see snapexport.Listing): removals counts the removals from a
-- project's lists, each removed_* table holds the rows removed from its
-- list with the removal's number and time, and listings are the passes
-- in progress.
ALTER TABLE projects ADD COLUMN removals INTEGER NOT NULL DEFAULT 0;

CREATE TABLE removed_export_buckets AS SELECT * FROM export_buckets WHERE 0;
ALTER TABLE removed_export_buckets ADD COLUMN removal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE removed_export_buckets ADD COLUMN removed_at TEXT NOT NULL DEFAULT '';
CREATE INDEX removed_export_buckets_list ON removed_export_buckets (project_id, seq);
CREATE INDEX removed_export_buckets_age ON removed_export_buckets (removed_at);

CREATE TABLE removed_private_endpoints AS SELECT * FROM private_endpoints WHERE 0;
ALTER TABLE removed_private_endpoints ADD COLUMN removal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE removed_private_endpoints ADD COLUMN removed_at TEXT NOT NULL DEFAULT '';
CREATE INDEX removed_private_endpoints_list ON removed_private_endpoints (project_id, provider, seq);
CREATE INDEX removed_private_endpoints_age ON removed_private_endpoints (removed_at);

CREATE TABLE removed_snapshots AS SELECT * FROM snapshots WHERE 0;
ALTER TABLE removed_snapshots ADD COLUMN removal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE removed_snapshots ADD COLUMN removed_at TEXT NOT NULL DEFAULT '';
CREATE INDEX removed_snapshots_list ON removed_snapshots (project_id, cluster_id, kind, seq);
CREATE INDEX removed_snapshots_age ON removed_snapshots (removed_at);

CREATE TABLE listings (
	key        TEXT PRIMARY KEY,
	removals   TEXT NOT NULL,
	buckets    INTEGER NOT NULL,
	endpoints  INTEGER NOT NULL,
	snapshots  INTEGER NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE INDEX listings_expiry ON listings (expires_at);

-- ListMark's highest snapshot number of a project.
CREATE INDEX snapshots_project ON snapshots (project_id, seq);
