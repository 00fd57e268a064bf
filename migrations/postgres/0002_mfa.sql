-- Two-factor sign-in with time-based one-time passwords (RFC 6238).

ALTER TABLE staff_users ADD COLUMN mfa_secret TEXT;
-- A secret shown during enrolment, kept until the first code confirms it.
ALTER TABLE staff_users ADD COLUMN mfa_pending_secret TEXT;
-- The last time step whose code was accepted: each code works once.
ALTER TABLE staff_users ADD COLUMN mfa_last_step BIGINT;

ALTER TABLE portal_users ADD COLUMN mfa_secret TEXT;
ALTER TABLE portal_users ADD COLUMN mfa_pending_secret TEXT;
ALTER TABLE portal_users ADD COLUMN mfa_last_step BIGINT;

-- A session whose password was right but whose second factor is still due.
ALTER TABLE sessions ADD COLUMN mfa_pending INTEGER NOT NULL DEFAULT 0;

CREATE TABLE mfa_recovery_codes (
    id         BIGSERIAL PRIMARY KEY,
    agency_id  BIGINT NOT NULL REFERENCES agencies(id),
    user_kind  TEXT NOT NULL CHECK (user_kind IN ('staff', 'portal')),
    user_id    BIGINT NOT NULL,
    code_hash  TEXT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX mfa_recovery_codes_by_user ON mfa_recovery_codes (agency_id, user_kind, user_id);
