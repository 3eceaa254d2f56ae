-- Typed projections of tickets and visits, written in the push transaction
-- beside each record (docs/architecture.md): what the service board, the
-- reports and a customer's related records read without parsing JSON.
-- Instants are milliseconds since the epoch (UTC).
CREATE TABLE ticket_rows (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL REFERENCES users (id),
    deleted         BIGINT NOT NULL DEFAULT 0,
    customer_id     TEXT,
    status          TEXT NOT NULL,
    ticket_type     TEXT,
    channel         TEXT,
    priority        TEXT,
    opened_at       BIGINT,
    contacted_at    BIGINT,
    resolved_at     BIGINT,
    closed_at       BIGINT,
    technician_name TEXT,
    rating          BIGINT,
    escalated       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX ticket_rows_status_opened ON ticket_rows (status, opened_at);
CREATE INDEX ticket_rows_customer ON ticket_rows (customer_id);

CREATE TABLE visit_rows (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES users (id),
    deleted     BIGINT NOT NULL DEFAULT 0,
    customer_id TEXT,
    lead_id     TEXT,
    visited_at  BIGINT
);
CREATE INDEX visit_rows_customer ON visit_rows (customer_id, visited_at);
CREATE INDEX visit_rows_lead ON visit_rows (lead_id);
