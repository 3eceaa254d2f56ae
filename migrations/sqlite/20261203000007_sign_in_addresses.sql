-- Failed sign-ins are throttled by address as well as by account: each
-- failure records the address it came from.
ALTER TABLE login_failures ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_address_at ON login_failures (address, at);
