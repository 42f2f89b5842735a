-- sqlite/migrations/0013_snapshot_capture.sql in PostgreSQL's types.
ALTER TABLE snapshots ADD COLUMN consistency text NOT NULL DEFAULT '',
	ADD COLUMN progress text NOT NULL DEFAULT 'null',
	ADD COLUMN failure_reason text NOT NULL DEFAULT '';
ALTER TABLE removed_snapshots ADD COLUMN consistency text NOT NULL DEFAULT '',
	ADD COLUMN progress text NOT NULL DEFAULT 'null',
	ADD COLUMN failure_reason text NOT NULL DEFAULT '';
