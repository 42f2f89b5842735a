-- A cluster's backup schedule keeps its one policy: the policy's id, its
-- items as JSON text, the reference time of day its snapshots are taken at
-- and the restore window. Clusters registered before get Atlas's default
-- policy (snapexport.DefaultPolicyItems) with new ids, anchored at the
-- hour and minute of their registration, as new clusters are.
ALTER TABLE clusters ADD COLUMN policy_id TEXT NOT NULL DEFAULT '';
ALTER TABLE clusters ADD COLUMN policy_items TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clusters ADD COLUMN reference_hour_of_day INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN reference_minute_of_hour INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN restore_window_days INTEGER NOT NULL DEFAULT 7;

UPDATE clusters SET
	policy_id = lower(hex(randomblob(12))),
	policy_items = json_array(
		json_object('id', lower(hex(randomblob(12))), 'frequencyType', 'hourly', 'frequencyInterval', 6, 'retentionUnit', 'days', 'retentionValue', 7),
		json_object('id', lower(hex(randomblob(12))), 'frequencyType', 'daily', 'frequencyInterval', 1, 'retentionUnit', 'days', 'retentionValue', 7),
		json_object('id', lower(hex(randomblob(12))), 'frequencyType', 'weekly', 'frequencyInterval', 6, 'retentionUnit', 'weeks', 'retentionValue', 4),
		json_object('id', lower(hex(randomblob(12))), 'frequencyType', 'monthly', 'frequencyInterval', 40, 'retentionUnit', 'months', 'retentionValue', 12),
		json_object('id', lower(hex(randomblob(12))), 'frequencyType', 'yearly', 'frequencyInterval', 12, 'retentionUnit', 'years', 'retentionValue', 1)),
	reference_hour_of_day = CAST(strftime('%H', created_at) AS INTEGER),
	reference_minute_of_hour = CAST(strftime('%M', created_at) AS INTEGER);
