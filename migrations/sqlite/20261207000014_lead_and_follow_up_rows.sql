-- Typed projections of leads and after-sales follow-ups, written in the
-- push transaction beside each record (docs/architecture.md): a customer's
-- leads and follow-ups without parsing JSON, and the records a merge of two
-- customers points at the one kept. Instants are milliseconds since the
-- epoch (UTC). A server that finds one of them empty beside records of its
-- entity fills it from the records when it starts. Derived rows: the owner
-- is the record's (which `records` holds to a user), so no foreign key is
-- checked again per row, and only what a query reads is indexed (every lead
-- push writes a row here).
CREATE TABLE lead_rows (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL,
    deleted     BIGINT NOT NULL DEFAULT 0,
    customer_id TEXT,
    status      TEXT NOT NULL,
    grade       TEXT,
    source      TEXT,
    screened_at BIGINT
);
-- Most leads name no customer: only those that do are indexed.
CREATE INDEX lead_rows_customer ON lead_rows (customer_id) WHERE customer_id IS NOT NULL;

CREATE TABLE follow_up_rows (
    id                  TEXT PRIMARY KEY,
    owner_id            TEXT NOT NULL,
    deleted             BIGINT NOT NULL DEFAULT 0,
    customer_id         TEXT,
    ticket_id           TEXT,
    followed_at         BIGINT,
    next_follow_up_date TEXT
);
CREATE INDEX follow_up_rows_customer ON follow_up_rows (customer_id, followed_at);
CREATE INDEX follow_up_rows_ticket ON follow_up_rows (ticket_id);
