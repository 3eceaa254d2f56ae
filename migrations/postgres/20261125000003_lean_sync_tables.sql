-- Leaner sync tables: `changes_prev_owner` indexes only the rows of records
-- that moved to another owner, which pulls of removals look up by
-- `prev_owner_id = …`; every other change no longer writes an index entry
-- for it. (SQLite's version of this migration also rebuilds `records`,
-- `changes` and `applied_mutations` in leaner forms that PostgreSQL's
-- tables already have or has no counterpart for.)

DROP INDEX changes_prev_owner;
CREATE INDEX changes_prev_owner ON changes (prev_owner_id, seq) WHERE prev_owner_id IS NOT NULL;
