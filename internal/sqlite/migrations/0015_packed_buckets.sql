-- Each export bucket row, live or removed, also holds its columns packed:
-- in the order sqlrow.ExportBucketColumns names them, as one JSON array,
-- kept by triggers in the transaction of every change. A list page reads a
-- row as that one column: the SQLite driver hands each column over to Go
-- at a cost that, over a page's 500 rows of ten columns, was most of the
-- page.
ALTER TABLE export_buckets ADD COLUMN packed TEXT NOT NULL DEFAULT '';
ALTER TABLE removed_export_buckets ADD COLUMN packed TEXT NOT NULL DEFAULT '';

UPDATE export_buckets SET packed = json_array(id, project_id, provider, bucket_name, role_id, region,
	require_private_networking, service_url, tenant_id, created_at);
UPDATE removed_export_buckets SET packed = json_array(id, project_id, provider, bucket_name, role_id, region,
	require_private_networking, service_url, tenant_id, created_at);

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
