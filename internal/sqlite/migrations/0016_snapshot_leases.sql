-- A snapshot being taken is held by one run at a time, as an export job
-- is: the run's name and until when its lease lasts (null when released
-- or never taken). Removed snapshots keep no lease.
ALTER TABLE snapshots ADD COLUMN runner TEXT NOT NULL DEFAULT '';
ALTER TABLE snapshots ADD COLUMN lease_until TEXT;
CREATE INDEX snapshots_lease ON snapshots (lease_until) WHERE lease_until IS NOT NULL;
