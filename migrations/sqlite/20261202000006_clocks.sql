-- Clocks: the deadlines still running for each record (a lead's screening,
-- a ticket's 2-hour contact and 24-hour handling), written in the push
-- transaction from the aggregate's pure rule, beside the record. The clock
-- job raises a clock once `due_at` has passed: under sync_counter's lock it
-- sets `raised_at` in the same transaction as what raising does (the
-- escalated mark, the notifications), so a restart or a second server never
-- raises one twice. A raised row stays, so a later write of the record does
-- not start that clock again.
CREATE TABLE clocks (
    entity    TEXT NOT NULL,
    record_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    due_at    BIGINT NOT NULL,
    raised_at BIGINT,
    PRIMARY KEY (entity, record_id, kind)
);
CREATE INDEX clocks_due ON clocks (due_at) WHERE raised_at IS NULL;
