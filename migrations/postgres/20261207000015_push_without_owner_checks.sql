-- A push writes up to a thousand records per request, and PostgreSQL checked
-- each one's owner against `users` with a foreign-key trigger per row (the
-- derived rows already went without it: 20261207000014). The owner is the
-- pushing user, or a colleague a command names and the server has just
-- read from `users` in the same transaction; users are deactivated, never
-- deleted. So the key is kept by the only writer, and the per-row check goes.
ALTER TABLE records DROP CONSTRAINT IF EXISTS records_owner_id_fkey;
ALTER TABLE customer_rows DROP CONSTRAINT IF EXISTS customer_rows_owner_id_fkey;
ALTER TABLE ticket_rows DROP CONSTRAINT IF EXISTS ticket_rows_owner_id_fkey;
ALTER TABLE visit_rows DROP CONSTRAINT IF EXISTS visit_rows_owner_id_fkey;
-- Mutation ids are only ever compared with the ids a push sends: compared
-- byte by byte rather than by the database's text collation.
ALTER TABLE applied_mutations ALTER COLUMN mutation_id TYPE TEXT COLLATE "C";
