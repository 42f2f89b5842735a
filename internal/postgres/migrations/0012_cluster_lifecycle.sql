-- sqlite/migrations/0010_cluster_lifecycle.sql in PostgreSQL's types,
-- which can drop the name's constraint instead of building the table anew.
ALTER TABLE clusters ADD COLUMN tags text NOT NULL DEFAULT '[]';
ALTER TABLE clusters ADD COLUMN backup_enabled boolean NOT NULL DEFAULT true;
ALTER TABLE clusters ADD COLUMN termination_protection_enabled boolean NOT NULL DEFAULT false;
ALTER TABLE clusters ADD COLUMN ready_at timestamptz;
UPDATE clusters SET ready_at = created_at;
ALTER TABLE clusters ALTER COLUMN ready_at SET NOT NULL;
ALTER TABLE clusters ADD COLUMN deleting_until timestamptz;
ALTER TABLE clusters ADD COLUMN retain_backups boolean NOT NULL DEFAULT false;
ALTER TABLE clusters ADD COLUMN removed boolean NOT NULL DEFAULT false;
ALTER TABLE clusters DROP CONSTRAINT clusters_project_id_name_key;
CREATE UNIQUE INDEX clusters_name ON clusters (project_id, name) WHERE NOT removed;
CREATE INDEX clusters_removed_name ON clusters (project_id, name, seq) WHERE removed;
