-- The portal-user list by last sign-in, with never-signed-in users first: the order's key as
-- a column of its own instead of an expression, the same SQL on both databases (see the
-- SQLite migration of the same number).

ALTER TABLE portal_users ADD COLUMN last_login_key BIGINT
    GENERATED ALWAYS AS (COALESCE(last_login_at, -1)) STORED;

DROP INDEX portal_users_by_last_login;
CREATE INDEX portal_users_by_last_login ON portal_users (agency_id, last_login_key, id) INCLUDE (status);
