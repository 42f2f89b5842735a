-- sqlite/migrations/0006_listings.sql in PostgreSQL's terms. A removal is
-- not counted: removed rows record the id of the transaction that removed
-- them (removal), and a listing records the snapshot of its first page
-- (removals, pg_current_snapshot()), so "removed after the mark" is "not
-- visible in that snapshot", and removals from one project do not queue
-- on a counter. listings are unlogged, like the nonces: a crash of the
-- database server forgets the passes in progress, which go on from the
-- lists as they are.

CREATE TABLE removed_export_buckets (LIKE export_buckets);
ALTER TABLE removed_export_buckets ADD COLUMN removal xid8 NOT NULL,
	ADD COLUMN removed_at timestamptz NOT NULL;
CREATE INDEX removed_export_buckets_list ON removed_export_buckets (project_id, seq);
CREATE INDEX removed_export_buckets_age ON removed_export_buckets (removed_at);

CREATE TABLE removed_private_endpoints (LIKE private_endpoints);
ALTER TABLE removed_private_endpoints ADD COLUMN removal xid8 NOT NULL,
	ADD COLUMN removed_at timestamptz NOT NULL;
CREATE INDEX removed_private_endpoints_list ON removed_private_endpoints (project_id, provider, seq);
CREATE INDEX removed_private_endpoints_age ON removed_private_endpoints (removed_at);

CREATE TABLE removed_snapshots (LIKE snapshots);
ALTER TABLE removed_snapshots ADD COLUMN removal xid8 NOT NULL,
	ADD COLUMN removed_at timestamptz NOT NULL;
CREATE INDEX removed_snapshots_list ON removed_snapshots (project_id, cluster_id, kind, seq);
CREATE INDEX removed_snapshots_age ON removed_snapshots (removed_at);

CREATE UNLOGGED TABLE listings (
	key        text PRIMARY KEY,
	removals   text NOT NULL,
	buckets    bigint NOT NULL,
	endpoints  bigint NOT NULL,
	snapshots  bigint NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX listings_expiry ON listings (expires_at);

-- ListMark's highest snapshot number of a project.
CREATE INDEX snapshots_project ON snapshots (project_id, seq);
