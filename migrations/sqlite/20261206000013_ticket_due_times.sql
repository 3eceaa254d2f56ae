-- The service board reads a ticket's two deadlines from its row instead of
-- computing them from every ticket's record: the due times come from the
-- same pure rule as the clocks (`tickets::ticket_deadlines`), written with
-- the row. Rows written before this migration get them here, by the rule
-- in force then (calendar hours: contact within 2 hours, handling within
-- 24; none for handling on a ticket done before resolutions were timed).
ALTER TABLE ticket_rows ADD COLUMN contact_due_at BIGINT;
ALTER TABLE ticket_rows ADD COLUMN handling_due_at BIGINT;
UPDATE ticket_rows SET
    contact_due_at = opened_at + 7200000,
    handling_due_at = CASE
        WHEN resolved_at IS NULL AND status IN ('resolved', 'closed') THEN NULL
        ELSE opened_at + 86400000
    END
WHERE opened_at IS NOT NULL;
CREATE INDEX ticket_rows_closed ON ticket_rows (status, closed_at);
CREATE INDEX ticket_rows_owner ON ticket_rows (owner_id, status);
