-- sqlite/migrations/0012_cluster_deployments.sql in PostgreSQL's types.
ALTER TABLE clusters ADD COLUMN deployment_uri_sealed bytea,
	ADD COLUMN deployment_public_uri text NOT NULL DEFAULT '',
	ADD COLUMN deployment_hosts text NOT NULL DEFAULT '[]',
	ADD COLUMN deployment_consistency text NOT NULL DEFAULT '';
