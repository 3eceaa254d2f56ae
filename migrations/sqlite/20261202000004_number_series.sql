-- Gapless numbers (customer codes C2026-0001, later contract numbers
-- HT202611-0001): the last number given in each series. Only a push
-- transaction, which holds sync_counter's row, reads and advances it, so two
-- servers never give one number twice or skip one.
CREATE TABLE number_series (
    series TEXT PRIMARY KEY,
    last   BIGINT NOT NULL
);
