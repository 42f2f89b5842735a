-- sqlite/migrations/0002_private_endpoints.sql in PostgreSQL's types.
CREATE TABLE private_endpoints (
	seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id              text NOT NULL UNIQUE,
	project_id      text NOT NULL REFERENCES projects (id),
	provider        text NOT NULL,
	region_name     text NOT NULL,
	vpc_region_name text NOT NULL,
	status          text NOT NULL,
	connection_name text NOT NULL DEFAULT '',
	error_message   text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL
);
CREATE INDEX private_endpoints_project ON private_endpoints (project_id, provider, seq);
