-- Leaner sync tables on SQLite: a push of 1,000 new records wrote each one
-- into ten b-trees; now seven. `records` and `applied_mutations` keep their
-- rows in their primary key (WITHOUT ROWID) instead of in a rowid table
-- beside it; `changes.seq` becomes the rowid itself (a `BIGINT PRIMARY KEY`
-- is a separate unique index on SQLite); and `changes_prev_owner` indexes
-- only the rows of records that moved to another owner, which pulls of
-- removals look up by `prev_owner_id = …`.

CREATE TABLE records_new (
    entity         TEXT NOT NULL,
    id             TEXT NOT NULL,
    owner_id       TEXT NOT NULL REFERENCES users (id),
    version        BIGINT NOT NULL,
    deleted        INTEGER NOT NULL DEFAULT 0,
    data           TEXT NOT NULL,
    field_versions TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (entity, id)
) WITHOUT ROWID;
INSERT INTO records_new SELECT entity, id, owner_id, version, deleted, data, field_versions,
    created_by, created_at, updated_at FROM records;
DROP TABLE records;
ALTER TABLE records_new RENAME TO records;
CREATE INDEX records_owner ON records (entity, owner_id);

CREATE TABLE changes_new (
    seq           INTEGER PRIMARY KEY,
    entity        TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    owner_id      TEXT NOT NULL,
    prev_owner_id TEXT,
    at            BIGINT NOT NULL
);
INSERT INTO changes_new SELECT seq, entity, record_id, owner_id, prev_owner_id, at FROM changes;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;
CREATE INDEX changes_owner ON changes (owner_id, seq);
CREATE INDEX changes_prev_owner ON changes (prev_owner_id, seq) WHERE prev_owner_id IS NOT NULL;

CREATE TABLE applied_mutations_new (
    mutation_id TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    result      TEXT NOT NULL,
    at          BIGINT NOT NULL
) WITHOUT ROWID;
INSERT INTO applied_mutations_new SELECT mutation_id, user_id, result, at FROM applied_mutations;
DROP TABLE applied_mutations;
ALTER TABLE applied_mutations_new RENAME TO applied_mutations;
