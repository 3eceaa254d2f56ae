-- The customer projection: one typed row per customer record, written in
-- the push transaction beside the record (see docs/architecture.md). Keys
-- are the 查重 match keys (app/src/dedup.rs); money is integer fen.
CREATE TABLE customer_rows (
    id               TEXT PRIMARY KEY,
    owner_id         TEXT NOT NULL REFERENCES users (id),
    deleted          BIGINT NOT NULL DEFAULT 0,
    company          TEXT,
    name_key         TEXT,
    phone_key        TEXT,
    credit_code_key  TEXT,
    code             TEXT,
    status           TEXT NOT NULL,
    class            TEXT,
    region           TEXT,
    key_customer     BIGINT NOT NULL DEFAULT 0,
    credit_limit_fen BIGINT
);
CREATE INDEX customer_rows_name ON customer_rows (name_key);
CREATE INDEX customer_rows_phone ON customer_rows (phone_key);
CREATE INDEX customer_rows_credit_code ON customer_rows (credit_code_key);
CREATE INDEX customer_rows_owner ON customer_rows (owner_id, company);
-- A code is given once: a second row with it cannot commit.
CREATE UNIQUE INDEX customer_rows_code ON customer_rows (code);
