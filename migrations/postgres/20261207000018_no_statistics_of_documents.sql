-- ANALYZE (the server's own after a large push, and autovacuum's) sampled
-- every column, and sorting 30,000 sampled JSON documents of half a
-- kilobyte each was most of its work: a tenth of PostgreSQL's time during
-- a push of 100,000 leads. No query filters, joins or sorts on these
-- columns (lists and rules read the typed projections), so the planner
-- needs no statistics of them.
ALTER TABLE records
    ALTER COLUMN data SET STATISTICS 0,
    ALTER COLUMN field_versions SET STATISTICS 0;
ALTER TABLE applied_mutations ALTER COLUMN result SET STATISTICS 0;
ALTER TABLE audit_log
    ALTER COLUMN before_json SET STATISTICS 0,
    ALTER COLUMN after_json SET STATISTICS 0;
ALTER TABLE sync_conflicts
    ALTER COLUMN kept_value SET STATISTICS 0,
    ALTER COLUMN lost_value SET STATISTICS 0;
