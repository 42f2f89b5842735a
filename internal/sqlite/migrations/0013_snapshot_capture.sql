-- A snapshot read from a deployment records how it read it (consistency),
-- how far the reading has gone (progress, JSON; null when nothing was
-- read from a deployment) and, once failed, why.
ALTER TABLE snapshots ADD COLUMN consistency TEXT NOT NULL DEFAULT '';
ALTER TABLE snapshots ADD COLUMN progress TEXT NOT NULL DEFAULT 'null';
ALTER TABLE snapshots ADD COLUMN failure_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE removed_snapshots ADD COLUMN consistency TEXT NOT NULL DEFAULT '';
ALTER TABLE removed_snapshots ADD COLUMN progress TEXT NOT NULL DEFAULT 'null';
ALTER TABLE removed_snapshots ADD COLUMN failure_reason TEXT NOT NULL DEFAULT '';
