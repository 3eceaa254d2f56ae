-- Foundation: regions, teams, users, sessions, sign-in failures, leads, audit.
-- Conventions (see migrations/README.md): ids are TEXT UUIDs, instants are
-- BIGINT milliseconds since the Unix epoch (UTC), flags are 0/1 integers.

CREATE TABLE regions (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE teams (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    region_id     TEXT REFERENCES regions (id),
    supervisor_id TEXT
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    team_id       TEXT REFERENCES teams (id),
    region_id     TEXT REFERENCES regions (id),
    password_hash TEXT NOT NULL,
    time_zone     TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX login_failures_username_at ON login_failures (username, at);

CREATE TABLE leads (
    id                TEXT PRIMARY KEY,
    company           TEXT NOT NULL,
    industry          TEXT NOT NULL,
    staff_size        TEXT,
    revenue_band      TEXT,
    contact_name      TEXT NOT NULL,
    contact_title     TEXT,
    phone             TEXT,
    email             TEXT,
    source            TEXT NOT NULL,
    initial_need      TEXT,
    grade             TEXT NOT NULL CHECK (grade IN ('A', 'B', 'C')),
    status            TEXT NOT NULL DEFAULT 'new',
    owner_id          TEXT NOT NULL REFERENCES users (id),
    contacted_at      BIGINT NOT NULL,
    last_follow_up_at BIGINT,
    next_step         TEXT,
    next_step_date    TEXT,
    notes             TEXT,
    created_by        TEXT NOT NULL REFERENCES users (id),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX leads_owner ON leads (owner_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          BIGINT NOT NULL,
    actor_id    TEXT NOT NULL,
    entity      TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    action      TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX audit_log_record ON audit_log (entity, record_id);
