-- No query looks records up by owner (pulls find a user's records through
-- `changes`, lists through the typed rows), yet `records_owner (entity,
-- owner_id)` was kept up to date on every write, and it misled the planner:
-- before `records` has statistics (a freshly loaded table: autovacuum
-- analyses it a minute later at the earliest), PostgreSQL took it for the
-- cheaper way to find a push's 500 records by id, and read every record of
-- the entity through it, 16 ms per lookup at 100,000 records
-- (docs/benchmarks.md). The records are found by their key, `(entity, id)`.
DROP INDEX IF EXISTS records_owner;
