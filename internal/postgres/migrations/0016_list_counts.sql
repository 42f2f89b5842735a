-- sqlite/migrations/0014_list_counts.sql in PostgreSQL's terms, except
-- that a change does not update its list's count: that would make
-- concurrent changes of a list conflict (their SERIALIZABLE transactions
-- would fail and run again). Each change instead inserts its +1 or -1 into
-- list_count_changes, in its own transaction, and PurgeRemoved folds the
-- changes into list_counts; a list's count is its row plus its changes.
CREATE TABLE list_counts (
	project_id text NOT NULL,
	list       text NOT NULL,
	part       text NOT NULL,
	items      bigint NOT NULL,
	PRIMARY KEY (project_id, list, part)
);
CREATE TABLE list_count_changes (
	project_id text NOT NULL,
	list       text NOT NULL,
	part       text NOT NULL,
	items      bigint NOT NULL
);
CREATE INDEX list_count_changes_list ON list_count_changes (project_id, list, part);

INSERT INTO list_counts (project_id, list, part, items)
	SELECT project_id, 'export_buckets', provider, count(*) FROM export_buckets GROUP BY project_id, provider;
INSERT INTO list_counts (project_id, list, part, items)
	SELECT project_id, 'private_endpoints', provider, count(*) FROM private_endpoints GROUP BY project_id, provider;
INSERT INTO list_counts (project_id, list, part, items)
	SELECT project_id, 'snapshots', cluster_id || '/' || kind, count(*) FROM snapshots WHERE parent_id = ''
	GROUP BY project_id, cluster_id, kind;

CREATE FUNCTION list_count_add(project text, list text, part text, n bigint) RETURNS void LANGUAGE sql AS $$
	INSERT INTO list_count_changes (project_id, list, part, items) VALUES (project, list, part, n)
$$;

-- TG_ARGV[0] names the list; a row's part is its provider.
CREATE FUNCTION count_by_provider() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		PERFORM list_count_add(OLD.project_id, TG_ARGV[0], OLD.provider, -1);
	END IF;
	IF TG_OP IN ('UPDATE', 'INSERT') THEN
		PERFORM list_count_add(NEW.project_id, TG_ARGV[0], NEW.provider, 1);
	END IF;
	RETURN NULL;
END
$$;

CREATE FUNCTION count_snapshots() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.parent_id = '' THEN
		PERFORM list_count_add(OLD.project_id, 'snapshots', OLD.cluster_id || '/' || OLD.kind, -1);
	END IF;
	IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.parent_id = '' THEN
		PERFORM list_count_add(NEW.project_id, 'snapshots', NEW.cluster_id || '/' || NEW.kind, 1);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER export_buckets_counted AFTER INSERT OR DELETE OR UPDATE OF project_id, provider ON export_buckets
	FOR EACH ROW EXECUTE FUNCTION count_by_provider('export_buckets');
CREATE TRIGGER private_endpoints_counted AFTER INSERT OR DELETE OR UPDATE OF project_id, provider ON private_endpoints
	FOR EACH ROW EXECUTE FUNCTION count_by_provider('private_endpoints');
CREATE TRIGGER snapshots_counted AFTER INSERT OR DELETE OR UPDATE OF project_id, cluster_id, kind, parent_id ON snapshots
	FOR EACH ROW EXECUTE FUNCTION count_snapshots();

-- A page of buckets of some providers finds its start in the index alone.
DROP INDEX export_buckets_project;
CREATE INDEX export_buckets_list ON export_buckets (project_id, seq, provider);
