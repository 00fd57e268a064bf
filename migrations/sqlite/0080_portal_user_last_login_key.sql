-- The portal-user list by last sign-in, with never-signed-in users first: the order's key as
-- a column of its own instead of an expression, so that the Next and Previous links seek in
-- the index on (key, id) as they do for every other order. On an expression SQLite seeks on
-- the first column only and, with a search, read up to the whole run of users who never
-- signed in (a third of the agency) to find the page.

ALTER TABLE portal_users ADD COLUMN last_login_key INTEGER
    GENERATED ALWAYS AS (COALESCE(last_login_at, -1)) VIRTUAL;

DROP INDEX portal_users_by_last_login;
CREATE INDEX portal_users_by_last_login ON portal_users (agency_id, last_login_key, id, status);
