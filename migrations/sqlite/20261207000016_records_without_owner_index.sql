-- No query looks records up by owner (pulls find a user's records through
-- `changes`, lists through the typed rows); the index only cost every write.
-- (On PostgreSQL it also misled the planner: see the migration of the same
-- name there.)
DROP INDEX IF EXISTS records_owner;
