-- sqlite/migrations/0007_backup_policies.sql in PostgreSQL's types: each
-- cluster's one backup policy, its reference time and restore window;
-- clusters registered before get Atlas's default policy with new ids.
ALTER TABLE clusters ADD COLUMN policy_id text NOT NULL DEFAULT '';
ALTER TABLE clusters ADD COLUMN policy_items text NOT NULL DEFAULT '[]';
ALTER TABLE clusters ADD COLUMN reference_hour_of_day integer NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN reference_minute_of_hour integer NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN restore_window_days integer NOT NULL DEFAULT 7;

-- Each id is 24 random hexadecimal digits, the form of every id.
UPDATE clusters SET
	policy_id = left(md5(random()::text), 24),
	policy_items = json_build_array(
		json_build_object('id', left(md5(random()::text), 24), 'frequencyType', 'hourly', 'frequencyInterval', 6, 'retentionUnit', 'days', 'retentionValue', 7),
		json_build_object('id', left(md5(random()::text), 24), 'frequencyType', 'daily', 'frequencyInterval', 1, 'retentionUnit', 'days', 'retentionValue', 7),
		json_build_object('id', left(md5(random()::text), 24), 'frequencyType', 'weekly', 'frequencyInterval', 6, 'retentionUnit', 'weeks', 'retentionValue', 4),
		json_build_object('id', left(md5(random()::text), 24), 'frequencyType', 'monthly', 'frequencyInterval', 40, 'retentionUnit', 'months', 'retentionValue', 12),
		json_build_object('id', left(md5(random()::text), 24), 'frequencyType', 'yearly', 'frequencyInterval', 12, 'retentionUnit', 'years', 'retentionValue', 1))::text,
	reference_hour_of_day = extract(hour FROM created_at AT TIME ZONE 'UTC')::integer,
	reference_minute_of_hour = extract(minute FROM created_at AT TIME ZONE 'UTC')::integer;
