-- The portal-user list with 100,000 users in one agency: counts kept as users come, go and
-- change status, so the unfiltered and status-filtered list count without reading the users;
-- and sort indexes that carry the status (and the search text) and order never-signed-in
-- users by a plain value, so a page is a seek from the row before it (see
-- db::portal_users::list).

CREATE TABLE portal_user_counts (
    agency_id  INTEGER NOT NULL REFERENCES agencies(id),
    status     TEXT NOT NULL,
    users      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (agency_id, status)
);

INSERT INTO portal_user_counts (agency_id, status, users)
SELECT agency_id, status, COUNT(*) FROM portal_users GROUP BY agency_id, status;

CREATE TRIGGER portal_user_counts_on_insert AFTER INSERT ON portal_users
BEGIN
    INSERT INTO portal_user_counts (agency_id, status, users) VALUES (NEW.agency_id, NEW.status, 1)
    ON CONFLICT (agency_id, status) DO UPDATE SET users = users + 1;
END;

CREATE TRIGGER portal_user_counts_on_delete AFTER DELETE ON portal_users
BEGIN
    UPDATE portal_user_counts SET users = users - 1
    WHERE agency_id = OLD.agency_id AND status = OLD.status;
END;

CREATE TRIGGER portal_user_counts_on_update AFTER UPDATE OF agency_id, status ON portal_users
WHEN OLD.agency_id <> NEW.agency_id OR OLD.status <> NEW.status
BEGIN
    UPDATE portal_user_counts SET users = users - 1
    WHERE agency_id = OLD.agency_id AND status = OLD.status;
    INSERT INTO portal_user_counts (agency_id, status, users) VALUES (NEW.agency_id, NEW.status, 1)
    ON CONFLICT (agency_id, status) DO UPDATE SET users = users + 1;
END;

DROP INDEX portal_users_by_email;
DROP INDEX portal_users_by_name;
DROP INDEX portal_users_by_company;
DROP INDEX portal_users_by_role;
DROP INDEX portal_users_by_last_login;
DROP INDEX portal_users_by_created_id;
DROP INDEX portal_users_by_status;
DROP INDEX portal_users_by_search;
CREATE INDEX portal_users_by_email ON portal_users (agency_id, email, id, status);
CREATE INDEX portal_users_by_name ON portal_users (agency_id, last_name, first_name, id, status);
CREATE INDEX portal_users_by_company ON portal_users (agency_id, company, id, status);
CREATE INDEX portal_users_by_role ON portal_users (agency_id, role_id, id, status);
CREATE INDEX portal_users_by_last_login ON portal_users (agency_id, COALESCE(last_login_at, -1), id, status);
CREATE INDEX portal_users_by_created ON portal_users (agency_id, created_at, id, status);
-- The status order, and the search: the filter box reads what was typed from this index alone.
CREATE INDEX portal_users_by_status ON portal_users (agency_id, status, id, search_text);
