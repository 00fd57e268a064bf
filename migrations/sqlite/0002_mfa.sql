-- Two-factor sign-in with time-based one-time passwords (RFC 6238).

ALTER TABLE staff_users ADD COLUMN mfa_secret TEXT;
-- A secret shown during enrolment, kept until the first code confirms it.
ALTER TABLE staff_users ADD COLUMN mfa_pending_secret TEXT;
-- The last time step whose code was accepted: each code works once.
ALTER TABLE staff_users ADD COLUMN mfa_last_step INTEGER;

ALTER TABLE portal_users ADD COLUMN mfa_secret TEXT;
ALTER TABLE portal_users ADD COLUMN mfa_pending_secret TEXT;
ALTER TABLE portal_users ADD COLUMN mfa_last_step INTEGER;

-- A session whose password was right but whose second factor is still due.
ALTER TABLE sessions ADD COLUMN mfa_pending INTEGER NOT NULL DEFAULT 0;

CREATE TABLE mfa_recovery_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id  INTEGER NOT NULL REFERENCES agencies(id),
    user_kind  TEXT NOT NULL CHECK (user_kind IN ('staff', 'portal')),
    user_id    INTEGER NOT NULL,
    code_hash  TEXT NOT NULL,
    used_at    INTEGER
);
CREATE INDEX mfa_recovery_codes_by_user ON mfa_recovery_codes (agency_id, user_kind, user_id);
