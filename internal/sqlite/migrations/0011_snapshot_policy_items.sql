-- The backup policy items a scheduled snapshot was taken for, as a JSON
-- list of ids; [] for the others.
ALTER TABLE snapshots ADD COLUMN policy_items TEXT NOT NULL DEFAULT '[]';
ALTER TABLE removed_snapshots ADD COLUMN policy_items TEXT NOT NULL DEFAULT '[]';
