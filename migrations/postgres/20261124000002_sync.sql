-- Sync: every synced entity lives in `records` as a JSON document with
-- per-field versions; `changes` is the append-only log pulls read;
-- `applied_mutations` makes pushes idempotent; `sync_conflicts` keeps the
-- losing value of a same-field concurrent edit. Leads move into `records`.

CREATE TABLE sync_counter (
    id  BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO sync_counter (id, seq) VALUES (1, 0);

CREATE TABLE records (
    entity         TEXT NOT NULL,
    id             TEXT NOT NULL,
    owner_id       TEXT NOT NULL REFERENCES users (id),
    version        BIGINT NOT NULL,
    deleted        BIGINT NOT NULL DEFAULT 0,
    data           TEXT NOT NULL,
    field_versions TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE INDEX records_owner ON records (entity, owner_id);

CREATE TABLE changes (
    seq           BIGINT PRIMARY KEY,
    entity        TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    owner_id      TEXT NOT NULL,
    prev_owner_id TEXT,
    at            BIGINT NOT NULL
);
CREATE INDEX changes_owner ON changes (owner_id, seq);
CREATE INDEX changes_prev_owner ON changes (prev_owner_id, seq);

CREATE TABLE applied_mutations (
    mutation_id TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    result      TEXT NOT NULL,
    at          BIGINT NOT NULL
);

CREATE TABLE sync_conflicts (
    id            TEXT PRIMARY KEY,
    entity        TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    field         TEXT NOT NULL,
    kept_value    TEXT NOT NULL,
    lost_value    TEXT NOT NULL,
    lost_by       TEXT,
    won_by        TEXT NOT NULL,
    at            BIGINT NOT NULL,
    resolved      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sync_conflicts_record ON sync_conflicts (entity, record_id);

-- Leads written by the foundation move into `records`, each with one change.
INSERT INTO records (entity, id, owner_id, version, deleted, data, field_versions, created_by, created_at, updated_at)
SELECT 'lead', id, owner_id, 1, 0,
       json_build_object('company', company, 'industry', industry, 'staff_size', staff_size,
                   'revenue_band', revenue_band, 'contact_name', contact_name,
                   'contact_title', contact_title, 'phone', phone, 'email', email, 'source', source,
                   'initial_need', initial_need, 'grade', grade, 'status', status,
                   'contacted_at', to_char(to_timestamp(contacted_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'next_step', next_step, 'next_step_date', next_step_date, 'notes', notes)::text,
       '{}', created_by, created_at, updated_at
FROM leads;
INSERT INTO changes (seq, entity, record_id, owner_id, prev_owner_id, at)
SELECT ROW_NUMBER() OVER (ORDER BY created_at, id), 'lead', id, owner_id, NULL, updated_at FROM leads;
UPDATE sync_counter SET seq = (SELECT COUNT(*) FROM leads) WHERE id = 1;
DROP TABLE leads;
