-- Agency settings that admins change at run time (`/{agency}/manage/settings`). A NULL column
-- means "not set here": the value comes from the agency's configuration file, then portal.toml,
-- then the built-in default. Values that describe the installation (slug, theme, plugins,
-- sender) stay in configuration only.
CREATE TABLE agency_settings (
    agency_id                INTEGER PRIMARY KEY REFERENCES agencies(id),
    portal_enabled           INTEGER,
    password_min_length      INTEGER,
    require_mfa_staff        INTEGER,
    require_mfa_portal       INTEGER,
    session_idle_minutes     INTEGER,
    session_absolute_hours   INTEGER,
    updated_at               INTEGER NOT NULL,
    updated_by               INTEGER REFERENCES staff_users(id) ON DELETE SET NULL
);

-- Team members who receive an email for every new work request (seed 004).
CREATE TABLE work_request_recipients (
    agency_id      INTEGER NOT NULL REFERENCES agencies(id),
    staff_user_id  INTEGER NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    PRIMARY KEY (agency_id, staff_user_id)
);

-- People at a client company (seed 003's contact records): linked to the client and,
-- optionally, to one of its worksites and to the portal login they use.
CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id       INTEGER NOT NULL REFERENCES agencies(id),
    client_id       INTEGER NOT NULL REFERENCES clients(id),
    worksite_id     INTEGER REFERENCES worksites(id),
    portal_user_id  INTEGER REFERENCES portal_users(id) ON DELETE SET NULL,
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    title           TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX contacts_by_client ON contacts (agency_id, client_id, last_name);

-- A staff session previewing the portal as one portal user ("view as client"), read only.
ALTER TABLE sessions ADD COLUMN preview_portal_user_id INTEGER;
