-- A cluster may be bound to a running MongoDB: its connection string
-- sealed with the server's secret key (NULL when unbound), the same
-- without credentials, its hosts (JSON list) and the consistency of its
-- snapshots.
ALTER TABLE clusters ADD COLUMN deployment_uri_sealed BLOB;
ALTER TABLE clusters ADD COLUMN deployment_public_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clusters ADD COLUMN deployment_hosts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clusters ADD COLUMN deployment_consistency TEXT NOT NULL DEFAULT '';
