-- The schema of sqlite/migrations/0001_initial.sql in PostgreSQL's types:
-- timestamptz for times (microsecond resolution), boolean for flags and an
-- identity column "seq" that records creation order wherever a list is
-- returned in that order.

CREATE TABLE organizations (
	seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	id         text PRIMARY KEY,
	name       text NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE projects (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         text NOT NULL UNIQUE,
	org_id     text NOT NULL REFERENCES organizations (id),
	name       text NOT NULL,
	created_at timestamptz NOT NULL,
	UNIQUE (org_id, name)
);

CREATE TABLE api_keys (
	seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	id          text PRIMARY KEY,
	org_id      text NOT NULL REFERENCES organizations (id),
	public_key  text NOT NULL UNIQUE,
	ha1         text NOT NULL,
	description text NOT NULL,
	created_at  timestamptz NOT NULL
);
CREATE INDEX api_keys_org ON api_keys (org_id, created_at, seq);

CREATE TABLE service_accounts (
	seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	id          text PRIMARY KEY,
	org_id      text NOT NULL REFERENCES organizations (id),
	client_id   text NOT NULL UNIQUE,
	secret_hash text NOT NULL,
	name        text NOT NULL,
	description text NOT NULL,
	created_at  timestamptz NOT NULL
);
CREATE INDEX service_accounts_org ON service_accounts (org_id, created_at, seq);

CREATE TABLE role_assignments (
	principal_id text NOT NULL,
	org_id       text NOT NULL REFERENCES organizations (id),
	project_id   text NOT NULL,
	role         text NOT NULL,
	PRIMARY KEY (principal_id, org_id, project_id, role)
);

CREATE TABLE access_tokens (
	hash               text PRIMARY KEY,
	service_account_id text NOT NULL,
	issued_at          timestamptz NOT NULL,
	expires_at         timestamptz NOT NULL,
	revoked_at         timestamptz
);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);
CREATE INDEX access_tokens_service_account ON access_tokens (service_account_id);

-- Digest nonces and rate-limit buckets are short-lived and need not survive
-- a crash of the database server (snapexport.NonceStore allows it; a lost
-- bucket is a full one), so they skip the write-ahead log: a crash empties
-- them, a clean restart keeps them. They are not replicated to standbys.
CREATE UNLOGGED TABLE digest_nonces (
	nonce      text PRIMARY KEY,
	expires_at timestamptz NOT NULL
);
CREATE INDEX digest_nonces_expiry ON digest_nonces (expires_at);

-- One token bucket per (policy name, key), as ratelimit.State: tokens
-- available as of updated_ns (Unix nanoseconds, exact, so that
-- ratelimit.Apply sees the instant it stored). full_at_ns is when the bucket
-- is full again and so may be deleted (a missing bucket is a full one).
CREATE UNLOGGED TABLE rate_limit_buckets (
	policy     text NOT NULL,
	key        text NOT NULL,
	tokens     double precision NOT NULL,
	updated_ns bigint NOT NULL,
	full_at_ns bigint NOT NULL,
	PRIMARY KEY (policy, key)
);
CREATE INDEX rate_limit_buckets_full_at ON rate_limit_buckets (full_at_ns);

CREATE TABLE cloud_provider_access_roles (
	seq                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id                    text NOT NULL UNIQUE,
	project_id            text NOT NULL REFERENCES projects (id),
	provider              text NOT NULL,
	created_at            timestamptz NOT NULL,
	authorized_at         timestamptz,
	updated_at            timestamptz NOT NULL,
	atlas_aws_account_arn text NOT NULL DEFAULT '',
	external_id           text NOT NULL DEFAULT '',
	iam_assumed_role_arn  text NOT NULL DEFAULT '',
	atlas_azure_app_id    text NOT NULL DEFAULT '',
	service_principal_id  text NOT NULL DEFAULT '',
	tenant_id             text NOT NULL DEFAULT '',
	gcp_service_account   text NOT NULL DEFAULT '',
	gcp_status            text NOT NULL DEFAULT ''
);
CREATE INDEX cloud_provider_access_roles_project ON cloud_provider_access_roles (project_id, seq);

CREATE TABLE export_buckets (
	seq                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id                         text NOT NULL UNIQUE,
	project_id                 text NOT NULL REFERENCES projects (id),
	provider                   text NOT NULL,
	bucket_name                text NOT NULL,
	role_id                    text NOT NULL,
	region                     text NOT NULL DEFAULT '',
	require_private_networking boolean NOT NULL DEFAULT false,
	service_url                text NOT NULL DEFAULT '',
	tenant_id                  text NOT NULL DEFAULT '',
	created_at                 timestamptz NOT NULL
);
CREATE INDEX export_buckets_project ON export_buckets (project_id, seq);
CREATE INDEX export_buckets_role ON export_buckets (project_id, role_id, seq);
