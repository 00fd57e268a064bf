-- The portal-user list with 100,000 users in one agency: counts kept as users come, go and
-- change status, so the unfiltered and status-filtered list count without reading the users;
-- sort indexes that carry the status and order never-signed-in users by a plain value, so a
-- page is a seek from the row before it (see db::portal_users::list); and a trigram index for
-- the filter box, which looks for what was typed anywhere in name, email and company (it
-- replaces the search index of 0020).
-- pg_trgm ships with PostgreSQL and is a trusted extension: the database owner may create it.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE portal_user_counts (
    agency_id  BIGINT NOT NULL REFERENCES agencies(id),
    status     TEXT NOT NULL,
    users      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (agency_id, status)
);

INSERT INTO portal_user_counts (agency_id, status, users)
SELECT agency_id, status, COUNT(*) FROM portal_users GROUP BY agency_id, status;

CREATE FUNCTION portal_user_counts_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE portal_user_counts SET users = users - 1
        WHERE agency_id = OLD.agency_id AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO portal_user_counts (agency_id, status, users) VALUES (NEW.agency_id, NEW.status, 1)
        ON CONFLICT (agency_id, status) DO UPDATE SET users = portal_user_counts.users + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER portal_user_counts_on_insert_or_delete AFTER INSERT OR DELETE ON portal_users
FOR EACH ROW EXECUTE FUNCTION portal_user_counts_follow();

CREATE TRIGGER portal_user_counts_on_update AFTER UPDATE OF agency_id, status ON portal_users
FOR EACH ROW WHEN (OLD.agency_id <> NEW.agency_id OR OLD.status <> NEW.status)
EXECUTE FUNCTION portal_user_counts_follow();

DROP INDEX portal_users_by_email;
DROP INDEX portal_users_by_name;
DROP INDEX portal_users_by_company;
DROP INDEX portal_users_by_role;
DROP INDEX portal_users_by_last_login;
DROP INDEX portal_users_by_created_id;
DROP INDEX portal_users_by_search;
CREATE INDEX portal_users_by_email ON portal_users (agency_id, email, id) INCLUDE (status);
CREATE INDEX portal_users_by_name ON portal_users (agency_id, last_name, first_name, id) INCLUDE (status);
CREATE INDEX portal_users_by_company ON portal_users (agency_id, company, id) INCLUDE (status);
CREATE INDEX portal_users_by_role ON portal_users (agency_id, role_id, id) INCLUDE (status);
CREATE INDEX portal_users_by_last_login ON portal_users (agency_id, (COALESCE(last_login_at, -1)), id) INCLUDE (status);
CREATE INDEX portal_users_by_created ON portal_users (agency_id, created_at, id) INCLUDE (status);
CREATE INDEX portal_users_by_search_trigrams ON portal_users USING gin (search_text gin_trgm_ops);
