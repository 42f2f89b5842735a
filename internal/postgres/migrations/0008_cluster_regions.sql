-- sqlite/migrations/0007_cluster_regions.sql in PostgreSQL's types. Where a
-- cluster runs, as its region configuration reports it; clusters
-- registered before get the defaults of `admin cluster create`.
ALTER TABLE clusters ADD COLUMN provider_name text NOT NULL DEFAULT 'AWS';
ALTER TABLE clusters ADD COLUMN region_name text NOT NULL DEFAULT 'US_EAST_1';
ALTER TABLE clusters ADD COLUMN instance_size text NOT NULL DEFAULT 'M10';
