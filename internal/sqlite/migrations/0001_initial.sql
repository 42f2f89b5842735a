CREATE TABLE organizations (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL
);

CREATE TABLE projects (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	org_id     TEXT NOT NULL REFERENCES organizations(id),
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	UNIQUE (org_id, name)
);

CREATE TABLE api_keys (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES organizations(id),
	public_key  TEXT NOT NULL UNIQUE,
	ha1         TEXT NOT NULL,
	description TEXT NOT NULL,
	created_at  TEXT NOT NULL
);

CREATE TABLE service_accounts (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES organizations(id),
	client_id   TEXT NOT NULL UNIQUE,
	secret_hash TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT NOT NULL,
	created_at  TEXT NOT NULL
);

CREATE TABLE role_assignments (
	principal_id TEXT NOT NULL,
	org_id       TEXT NOT NULL REFERENCES organizations(id),
	project_id   TEXT NOT NULL,
	role         TEXT NOT NULL,
	PRIMARY KEY (principal_id, org_id, project_id, role)
);

CREATE TABLE access_tokens (
	hash               TEXT PRIMARY KEY,
	service_account_id TEXT NOT NULL,
	issued_at          TEXT NOT NULL,
	expires_at         TEXT NOT NULL,
	revoked_at         TEXT
);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);

CREATE TABLE digest_nonces (
	nonce      TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
);
CREATE INDEX digest_nonces_expiry ON digest_nonces (expires_at);

CREATE TABLE cloud_provider_access_roles (
	seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
	id                    TEXT NOT NULL UNIQUE,
	project_id            TEXT NOT NULL REFERENCES projects(id),
	provider              TEXT NOT NULL,
	created_at            TEXT NOT NULL,
	authorized_at         TEXT,
	updated_at            TEXT NOT NULL,
	atlas_aws_account_arn TEXT NOT NULL DEFAULT '',
	external_id           TEXT NOT NULL DEFAULT '',
	iam_assumed_role_arn  TEXT NOT NULL DEFAULT '',
	atlas_azure_app_id    TEXT NOT NULL DEFAULT '',
	service_principal_id  TEXT NOT NULL DEFAULT '',
	tenant_id             TEXT NOT NULL DEFAULT '',
	gcp_service_account   TEXT NOT NULL DEFAULT '',
	gcp_status            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cloud_provider_access_roles_project ON cloud_provider_access_roles (project_id, seq);

CREATE TABLE export_buckets (
	seq                        INTEGER PRIMARY KEY AUTOINCREMENT,
	id                         TEXT NOT NULL UNIQUE,
	project_id                 TEXT NOT NULL REFERENCES projects(id),
	provider                   TEXT NOT NULL,
	bucket_name                TEXT NOT NULL,
	role_id                    TEXT NOT NULL,
	region                     TEXT NOT NULL DEFAULT '',
	require_private_networking INTEGER NOT NULL DEFAULT 0,
	service_url                TEXT NOT NULL DEFAULT '',
	tenant_id                  TEXT NOT NULL DEFAULT '',
	created_at                 TEXT NOT NULL
);
CREATE INDEX export_buckets_project ON export_buckets (project_id, seq);
CREATE INDEX export_buckets_role ON export_buckets (project_id, role_id);
