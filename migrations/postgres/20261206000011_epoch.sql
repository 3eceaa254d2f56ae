-- The database's epoch: a random id a device keeps beside its sync cursor.
-- `fieldbook restore` gives the restored database a new one, so a device
-- that synced with the server before the restore notices, pulls afresh and
-- sends again what it had sent that the restored database lacks.
ALTER TABLE sync_counter ADD COLUMN epoch TEXT NOT NULL DEFAULT '';
UPDATE sync_counter SET epoch = md5(random()::text || clock_timestamp()::text);
