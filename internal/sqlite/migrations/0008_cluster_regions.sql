-- Where a cluster runs, as its region configuration reports it; clusters
-- registered before get the defaults of `admin cluster create`.
ALTER TABLE clusters ADD COLUMN provider_name TEXT NOT NULL DEFAULT 'AWS';
ALTER TABLE clusters ADD COLUMN region_name TEXT NOT NULL DEFAULT 'US_EAST_1';
ALTER TABLE clusters ADD COLUMN instance_size TEXT NOT NULL DEFAULT 'M10';
