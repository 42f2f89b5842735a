CREATE TABLE private_endpoints (
	seq             INTEGER PRIMARY KEY AUTOINCREMENT,
	id              TEXT NOT NULL UNIQUE,
	project_id      TEXT NOT NULL REFERENCES projects(id),
	provider        TEXT NOT NULL,
	region_name     TEXT NOT NULL,
	vpc_region_name TEXT NOT NULL,
	status          TEXT NOT NULL,
	connection_name TEXT NOT NULL DEFAULT '',
	error_message   TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL
);
CREATE INDEX private_endpoints_project ON private_endpoints (project_id, provider, seq);
