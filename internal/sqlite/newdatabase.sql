-- The schema of a new database: every migration in migrations/ and then
-- River's, applied. Made by: go test ./internal/sqlite -run TestNewDatabaseSchema -update

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
	created_at TEXT NOT NULL, removals INTEGER NOT NULL DEFAULT 0,
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
, packed TEXT NOT NULL DEFAULT '');

CREATE INDEX export_buckets_role ON export_buckets (project_id, role_id);

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

CREATE TABLE snapshots (
	seq                INTEGER PRIMARY KEY AUTOINCREMENT,
	id                 TEXT NOT NULL UNIQUE,
	project_id         TEXT NOT NULL REFERENCES projects(id),
	cluster_id         TEXT NOT NULL,
	cluster_name       TEXT NOT NULL,
	kind               TEXT NOT NULL,
	parent_id          TEXT NOT NULL DEFAULT '',
	replica_set_name   TEXT NOT NULL DEFAULT '',
	members            TEXT NOT NULL DEFAULT '[]',
	description        TEXT NOT NULL DEFAULT '',
	snapshot_type      TEXT NOT NULL,
	frequency_type     TEXT NOT NULL,
	status             TEXT NOT NULL,
	mongod_version     TEXT NOT NULL,
	cloud_provider     TEXT NOT NULL,
	storage_size_bytes INTEGER NOT NULL DEFAULT 0,
	created_at         TEXT NOT NULL,
	expires_at         TEXT NOT NULL,
	imported_at        TEXT NOT NULL,
	collections        TEXT NOT NULL DEFAULT '[]'
, policy_items TEXT NOT NULL DEFAULT '[]', consistency TEXT NOT NULL DEFAULT '', progress TEXT NOT NULL DEFAULT 'null', failure_reason TEXT NOT NULL DEFAULT '', runner TEXT NOT NULL DEFAULT '', lease_until TEXT);

CREATE INDEX snapshots_list ON snapshots (project_id, cluster_id, kind, parent_id, seq);

CREATE INDEX snapshots_expiry ON snapshots (expires_at);

CREATE INDEX snapshots_taken ON snapshots (project_id, cluster_id, created_at);

CREATE TABLE export_jobs (
	seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
	id                   TEXT NOT NULL UNIQUE,
	project_id           TEXT NOT NULL REFERENCES projects(id),
	cluster_id           TEXT NOT NULL,
	cluster_name         TEXT NOT NULL,
	snapshot_id          TEXT NOT NULL,
	export_bucket_id     TEXT NOT NULL,
	parent_id            TEXT NOT NULL DEFAULT '',
	replica_set_name     TEXT NOT NULL DEFAULT '',
	source_snapshot_id   TEXT NOT NULL DEFAULT '',
	components           TEXT NOT NULL DEFAULT '[]',
	custom_data          TEXT NOT NULL DEFAULT '[]',
	prefix               TEXT NOT NULL,
	state                TEXT NOT NULL,
	state_reason         TEXT NOT NULL DEFAULT 'null',
	created_at           TEXT NOT NULL,
	finished_at          TEXT,
	total_collections    INTEGER NOT NULL DEFAULT 0,
	exported_collections INTEGER NOT NULL DEFAULT 0,
	files                INTEGER NOT NULL DEFAULT 0,
	documents            INTEGER NOT NULL DEFAULT 0,
	bytes                INTEGER NOT NULL DEFAULT 0,
	total_documents      INTEGER NOT NULL DEFAULT 0,
	total_bytes          INTEGER NOT NULL DEFAULT 0,
	cancel_requested     INTEGER NOT NULL DEFAULT 0,
	runner               TEXT NOT NULL DEFAULT '',
	lease_until          TEXT
);

CREATE INDEX export_jobs_list ON export_jobs (project_id, cluster_id, parent_id, seq);

CREATE INDEX export_jobs_snapshot ON export_jobs (project_id, snapshot_id, state);

CREATE INDEX export_jobs_bucket ON export_jobs (project_id, export_bucket_id, state);

CREATE INDEX export_jobs_lease ON export_jobs (lease_until) WHERE lease_until IS NOT NULL;

CREATE TABLE removed_export_buckets(
  seq INT,
  id TEXT,
  project_id TEXT,
  provider TEXT,
  bucket_name TEXT,
  role_id TEXT,
  region TEXT,
  require_private_networking INT,
  service_url TEXT,
  tenant_id TEXT,
  created_at TEXT
, removal INTEGER NOT NULL DEFAULT 0, removed_at TEXT NOT NULL DEFAULT '', packed TEXT NOT NULL DEFAULT '');

CREATE INDEX removed_export_buckets_list ON removed_export_buckets (project_id, seq);

CREATE INDEX removed_export_buckets_age ON removed_export_buckets (removed_at);

CREATE TABLE removed_private_endpoints(
  seq INT,
  id TEXT,
  project_id TEXT,
  provider TEXT,
  region_name TEXT,
  vpc_region_name TEXT,
  status TEXT,
  connection_name TEXT,
  error_message TEXT,
  created_at TEXT
, removal INTEGER NOT NULL DEFAULT 0, removed_at TEXT NOT NULL DEFAULT '');

CREATE INDEX removed_private_endpoints_list ON removed_private_endpoints (project_id, provider, seq);

CREATE INDEX removed_private_endpoints_age ON removed_private_endpoints (removed_at);

CREATE TABLE removed_snapshots(
  seq INT,
  id TEXT,
  project_id TEXT,
  cluster_id TEXT,
  cluster_name TEXT,
  kind TEXT,
  parent_id TEXT,
  replica_set_name TEXT,
  members TEXT,
  description TEXT,
  snapshot_type TEXT,
  frequency_type TEXT,
  status TEXT,
  mongod_version TEXT,
  cloud_provider TEXT,
  storage_size_bytes INT,
  created_at TEXT,
  expires_at TEXT,
  imported_at TEXT,
  collections TEXT
, removal INTEGER NOT NULL DEFAULT 0, removed_at TEXT NOT NULL DEFAULT '', policy_items TEXT NOT NULL DEFAULT '[]', consistency TEXT NOT NULL DEFAULT '', progress TEXT NOT NULL DEFAULT 'null', failure_reason TEXT NOT NULL DEFAULT '');

CREATE INDEX removed_snapshots_list ON removed_snapshots (project_id, cluster_id, kind, seq);

CREATE INDEX removed_snapshots_age ON removed_snapshots (removed_at);

CREATE TABLE listings (
	key        TEXT PRIMARY KEY,
	removals   TEXT NOT NULL,
	buckets    INTEGER NOT NULL,
	endpoints  INTEGER NOT NULL,
	snapshots  INTEGER NOT NULL,
	expires_at TEXT NOT NULL
);

CREATE INDEX listings_expiry ON listings (expires_at);

CREATE INDEX snapshots_project ON snapshots (project_id, seq);

CREATE TABLE server_secrets (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE "clusters" (
	seq                            INTEGER PRIMARY KEY AUTOINCREMENT,
	id                             TEXT NOT NULL UNIQUE,
	project_id                     TEXT NOT NULL REFERENCES projects(id),
	name                           TEXT NOT NULL,
	cluster_type                   TEXT NOT NULL,
	mongodb_version                TEXT NOT NULL,
	labels                         TEXT NOT NULL DEFAULT '[]',
	shards                         TEXT NOT NULL DEFAULT '[]',
	auto_export_enabled            INTEGER NOT NULL DEFAULT 0,
	export_bucket_id               TEXT NOT NULL DEFAULT '',
	export_frequency_type          TEXT NOT NULL DEFAULT '',
	use_org_and_group_names        INTEGER NOT NULL DEFAULT 0,
	created_at                     TEXT NOT NULL,
	policy_id                      TEXT NOT NULL DEFAULT '',
	policy_items                   TEXT NOT NULL DEFAULT '[]',
	reference_hour_of_day          INTEGER NOT NULL DEFAULT 0,
	reference_minute_of_hour       INTEGER NOT NULL DEFAULT 0,
	restore_window_days            INTEGER NOT NULL DEFAULT 7,
	provider_name                  TEXT NOT NULL DEFAULT 'AWS',
	region_name                    TEXT NOT NULL DEFAULT 'US_EAST_1',
	instance_size                  TEXT NOT NULL DEFAULT 'M10',
	tags                           TEXT NOT NULL DEFAULT '[]',
	backup_enabled                 INTEGER NOT NULL DEFAULT 1,
	termination_protection_enabled INTEGER NOT NULL DEFAULT 0,
	ready_at                       TEXT NOT NULL,
	deleting_until                 TEXT,
	retain_backups                 INTEGER NOT NULL DEFAULT 0,
	removed                        INTEGER NOT NULL DEFAULT 0
, deployment_uri_sealed BLOB, deployment_public_uri TEXT NOT NULL DEFAULT '', deployment_hosts TEXT NOT NULL DEFAULT '[]', deployment_consistency TEXT NOT NULL DEFAULT '');

CREATE UNIQUE INDEX clusters_name ON clusters (project_id, name) WHERE removed = 0;

CREATE INDEX clusters_removed_name ON clusters (project_id, name, seq) WHERE removed = 1;

CREATE INDEX clusters_export_bucket ON clusters (project_id, export_bucket_id);

CREATE TABLE scheduled_snapshot_claims (
	cluster_id   TEXT NOT NULL,
	scheduled_at TEXT NOT NULL,
	project_id   TEXT NOT NULL,
	PRIMARY KEY (cluster_id, scheduled_at)
);

CREATE TABLE list_counts (
	project_id TEXT NOT NULL,
	list       TEXT NOT NULL,
	part       TEXT NOT NULL,
	items      INTEGER NOT NULL,
	PRIMARY KEY (project_id, list, part)
) WITHOUT ROWID;

CREATE TRIGGER export_buckets_counted AFTER INSERT ON export_buckets BEGIN
	INSERT INTO list_counts (project_id, list, part, items) VALUES (new.project_id, 'export_buckets', new.provider, 1)
		ON CONFLICT (project_id, list, part) DO UPDATE SET items = items + 1;
END;

CREATE TRIGGER export_buckets_uncounted AFTER DELETE ON export_buckets BEGIN
	UPDATE list_counts SET items = items - 1 WHERE project_id = old.project_id AND list = 'export_buckets' AND part = old.provider;
END;

CREATE TRIGGER export_buckets_recounted AFTER UPDATE OF project_id, provider ON export_buckets BEGIN
	UPDATE list_counts SET items = items - 1 WHERE project_id = old.project_id AND list = 'export_buckets' AND part = old.provider;
	INSERT INTO list_counts (project_id, list, part, items) VALUES (new.project_id, 'export_buckets', new.provider, 1)
		ON CONFLICT (project_id, list, part) DO UPDATE SET items = items + 1;
END;

CREATE TRIGGER private_endpoints_counted AFTER INSERT ON private_endpoints BEGIN
	INSERT INTO list_counts (project_id, list, part, items) VALUES (new.project_id, 'private_endpoints', new.provider, 1)
		ON CONFLICT (project_id, list, part) DO UPDATE SET items = items + 1;
END;

CREATE TRIGGER private_endpoints_uncounted AFTER DELETE ON private_endpoints BEGIN
	UPDATE list_counts SET items = items - 1 WHERE project_id = old.project_id AND list = 'private_endpoints' AND part = old.provider;
END;

CREATE TRIGGER private_endpoints_recounted AFTER UPDATE OF project_id, provider ON private_endpoints BEGIN
	UPDATE list_counts SET items = items - 1 WHERE project_id = old.project_id AND list = 'private_endpoints' AND part = old.provider;
	INSERT INTO list_counts (project_id, list, part, items) VALUES (new.project_id, 'private_endpoints', new.provider, 1)
		ON CONFLICT (project_id, list, part) DO UPDATE SET items = items + 1;
END;

CREATE TRIGGER snapshots_counted AFTER INSERT ON snapshots WHEN new.parent_id = '' BEGIN
	INSERT INTO list_counts (project_id, list, part, items) VALUES (new.project_id, 'snapshots', new.cluster_id || '/' || new.kind, 1)
		ON CONFLICT (project_id, list, part) DO UPDATE SET items = items + 1;
END;

CREATE TRIGGER snapshots_uncounted AFTER DELETE ON snapshots WHEN old.parent_id = '' BEGIN
	UPDATE list_counts SET items = items - 1
		WHERE project_id = old.project_id AND list = 'snapshots' AND part = old.cluster_id || '/' || old.kind;
END;

CREATE TRIGGER snapshots_recounted_old AFTER UPDATE OF project_id, cluster_id, kind, parent_id ON snapshots WHEN old.parent_id = '' BEGIN
	UPDATE list_counts SET items = items - 1
		WHERE project_id = old.project_id AND list = 'snapshots' AND part = old.cluster_id || '/' || old.kind;
END;

CREATE TRIGGER snapshots_recounted_new AFTER UPDATE OF project_id, cluster_id, kind, parent_id ON snapshots WHEN new.parent_id = '' BEGIN
	INSERT INTO list_counts (project_id, list, part, items) VALUES (new.project_id, 'snapshots', new.cluster_id || '/' || new.kind, 1)
		ON CONFLICT (project_id, list, part) DO UPDATE SET items = items + 1;
END;

CREATE INDEX export_buckets_list ON export_buckets (project_id, seq, provider);

CREATE TRIGGER export_buckets_packed AFTER INSERT ON export_buckets BEGIN
	UPDATE export_buckets SET packed = json_array(new.id, new.project_id, new.provider, new.bucket_name, new.role_id, new.region,
		new.require_private_networking, new.service_url, new.tenant_id, new.created_at) WHERE seq = new.seq;
END;

CREATE TRIGGER export_buckets_repacked AFTER UPDATE OF id, project_id, provider, bucket_name, role_id, region,
	require_private_networking, service_url, tenant_id, created_at ON export_buckets BEGIN
	UPDATE export_buckets SET packed = json_array(new.id, new.project_id, new.provider, new.bucket_name, new.role_id, new.region,
		new.require_private_networking, new.service_url, new.tenant_id, new.created_at) WHERE seq = new.seq;
END;

CREATE TRIGGER removed_export_buckets_packed AFTER INSERT ON removed_export_buckets BEGIN
	UPDATE removed_export_buckets SET packed = json_array(new.id, new.project_id, new.provider, new.bucket_name, new.role_id, new.region,
		new.require_private_networking, new.service_url, new.tenant_id, new.created_at) WHERE rowid = new.rowid;
END;

CREATE INDEX snapshots_lease ON snapshots (lease_until) WHERE lease_until IS NOT NULL;

CREATE TABLE river_leader (
    elected_at timestamp NOT NULL,
    expires_at timestamp NOT NULL,
    leader_id text NOT NULL,
    name text PRIMARY KEY NOT NULL DEFAULT 'default' CHECK (name = 'default'),
    CONSTRAINT name_length CHECK (length(name) > 0 AND length(name) < 128),
    CONSTRAINT leader_id_length CHECK (length(leader_id) > 0 AND length(leader_id) < 128)
);

CREATE TABLE river_migration (
    line text NOT NULL,
    version integer NOT NULL,
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT line_length CHECK (length(line) > 0 AND length(line) < 128),
    CONSTRAINT version_gte_1 CHECK (version >= 1),
    PRIMARY KEY (line, version)
);

CREATE TABLE river_notification (
    id integer PRIMARY KEY AUTOINCREMENT,
    created_at timestamp NOT NULL DEFAULT (datetime('now', 'subsec')),
    payload text NOT NULL,
    topic text NOT NULL,
    CONSTRAINT topic_length CHECK (length(topic) > 0 AND length(topic) < 128)
);

CREATE INDEX river_notification_created_at_idx ON river_notification (created_at);

CREATE INDEX river_notification_topic_id_idx ON river_notification (topic, id);

CREATE TABLE river_queue (
    name text PRIMARY KEY NOT NULL,
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    metadata blob NOT NULL DEFAULT (jsonb('{}')),
    paused_at timestamp,
    updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE river_job (
    id integer PRIMARY KEY AUTOINCREMENT,
    args blob NOT NULL DEFAULT (jsonb('{}')),
    attempt integer NOT NULL DEFAULT 0,
    attempted_at timestamp,
    attempted_by blob, -- json
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    errors blob, -- json
    finalized_at timestamp,
    kind text NOT NULL,
    max_attempts integer NOT NULL DEFAULT 25,
    metadata blob NOT NULL DEFAULT (jsonb('{}')),
    priority integer NOT NULL DEFAULT 1,
    queue text NOT NULL DEFAULT 'default',
    state text NOT NULL DEFAULT 'available',
    scheduled_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    tags blob NOT NULL DEFAULT (jsonb('[]')),
    unique_key blob,
    unique_states integer,
    CONSTRAINT finalized_or_finalized_at_null CHECK (
        (finalized_at IS NULL AND state NOT IN ('cancelled', 'completed', 'discarded')) OR
        (finalized_at IS NOT NULL AND state IN ('cancelled', 'completed', 'discarded'))
    ),
    CONSTRAINT priority_in_range CHECK (priority >= 1 AND priority <= 4),
    CONSTRAINT queue_length CHECK (length(queue) > 0 AND length(queue) < 128),
    CONSTRAINT kind_length CHECK (length(kind) > 0 AND length(kind) < 128),
    CONSTRAINT state_valid CHECK (state IN ('available', 'cancelled', 'completed', 'discarded', 'pending', 'retryable', 'running', 'scheduled'))
);

CREATE INDEX river_job_kind ON river_job (kind);

CREATE INDEX river_job_state_and_finalized_at_index ON river_job (state, finalized_at) WHERE finalized_at IS NOT NULL;

CREATE INDEX river_job_prioritized_fetching_index ON river_job (state, queue, priority, scheduled_at, id);

CREATE UNIQUE INDEX river_job_unique_idx ON river_job (unique_key)
    WHERE unique_key IS NOT NULL
        AND unique_states IS NOT NULL
        AND CASE state
            WHEN 'available' THEN unique_states & (1 << 0)
            WHEN 'cancelled' THEN unique_states & (1 << 1)
            WHEN 'completed' THEN unique_states & (1 << 2)
            WHEN 'discarded' THEN unique_states & (1 << 3)
            WHEN 'pending'   THEN unique_states & (1 << 4)
            WHEN 'retryable' THEN unique_states & (1 << 5)
            WHEN 'running'   THEN unique_states & (1 << 6)
            WHEN 'scheduled' THEN unique_states & (1 << 7)
            ELSE 0
        END >= 1;

INSERT INTO river_migration (line, version) VALUES
	('main', 1),
	('main', 2),
	('main', 3),
	('main', 4),
	('main', 5),
	('main', 6),
	('main', 7),
	('main', 8);
