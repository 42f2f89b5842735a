-- How many items each list of a project holds, kept by triggers in the
-- transaction of every change, so that a page's total is read rather than
-- counted. A list is one table's items of a project with the values its
-- listings filter on (part): a bucket's provider, an endpoint's provider, a
-- snapshot's cluster and kind, counted while it is no member of another
-- snapshot (parent_id '').
CREATE TABLE list_counts (
	project_id TEXT NOT NULL,
	list       TEXT NOT NULL,
	part       TEXT NOT NULL,
	items      INTEGER NOT NULL,
	PRIMARY KEY (project_id, list, part)
) WITHOUT ROWID;

INSERT INTO list_counts (project_id, list, part, items)
	SELECT project_id, 'export_buckets', provider, count(*) FROM export_buckets GROUP BY project_id, provider;
INSERT INTO list_counts (project_id, list, part, items)
	SELECT project_id, 'private_endpoints', provider, count(*) FROM private_endpoints GROUP BY project_id, provider;
INSERT INTO list_counts (project_id, list, part, items)
	SELECT project_id, 'snapshots', cluster_id || '/' || kind, count(*) FROM snapshots WHERE parent_id = ''
	GROUP BY project_id, cluster_id, kind;

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

-- A page of buckets of some providers finds its start in the index alone.
DROP INDEX export_buckets_project;
CREATE INDEX export_buckets_list ON export_buckets (project_id, seq, provider);
