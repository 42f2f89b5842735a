-- A bucket is kept per (policy name, scope, key): the same id as a project
-- and as an organization names two buckets. The buckets so far were all
-- per project; the default also keeps the inserts of replicas still
-- running an earlier version per project while the others upgrade.
ALTER TABLE rate_limit_buckets ADD COLUMN scope text NOT NULL DEFAULT 'project';
ALTER TABLE rate_limit_buckets DROP CONSTRAINT rate_limit_buckets_pkey, ADD PRIMARY KEY (policy, scope, key);
