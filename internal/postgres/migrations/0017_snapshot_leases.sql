-- sqlite/migrations/0016_snapshot_leases.sql in PostgreSQL's types.
ALTER TABLE snapshots ADD COLUMN runner text NOT NULL DEFAULT '',
	ADD COLUMN lease_until timestamptz;
CREATE INDEX snapshots_lease ON snapshots (lease_until) WHERE lease_until IS NOT NULL;
