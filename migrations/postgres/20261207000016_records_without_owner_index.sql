-- No query looks records up by owner (pulls find a user's records through
-- `changes`, lists through the typed rows), yet `records_owner (entity,
-- owner_id)` was kept up to date on every write. (Before `records` had
-- statistics, PostgreSQL also took it for the cheaper way to find a push's
-- 500 records by id; what fixed those lookups is the statistics the server
-- now gathers after a push, `refresh_statistics`: docs/benchmarks.md.)
DROP INDEX IF EXISTS records_owner;
