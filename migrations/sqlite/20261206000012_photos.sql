-- Photos taken on a device and attached to a record (a repair's condition
-- before and after). Uploaded in chunks that resume after a cut: the
-- chunks wait in `photo_chunks` until the last one is in and the whole
-- matches the digest the device declared; only then is `data` written and
-- `complete` set, and the chunks go. A photo is never shown half.
CREATE TABLE photos (
    id           TEXT PRIMARY KEY,
    entity       TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    stage        TEXT NOT NULL,
    uploader_id  TEXT NOT NULL REFERENCES users (id),
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    received     BIGINT NOT NULL DEFAULT 0,
    complete     BIGINT NOT NULL DEFAULT 0,
    data         BLOB,
    taken_at     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX photos_record ON photos (entity, record_id);

CREATE TABLE photo_chunks (
    photo_id TEXT NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (photo_id, position)
);
