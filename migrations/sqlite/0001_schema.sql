-- Portal schema, SQLite dialect. Kept in step with ../postgres/0001_schema.sql:
-- the same tables, columns and meanings; only the DDL spelling differs.
--
-- Portable representations (one set of queries runs on both databases):
--   times    INTEGER seconds since the Unix epoch, UTC
--   dates    TEXT 'YYYY-MM-DD'
--   money    INTEGER minor units (cents)
--   flags    INTEGER 0/1
--   statuses TEXT with a CHECK of the allowed values

CREATE TABLE agencies (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    slug          TEXT NOT NULL UNIQUE,
    -- The name of the agency's configuration file (without .toml): the stable key that lets
    -- start-up notice a slug edited in place, which is refused.
    config_key    TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE staff_users (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id             INTEGER NOT NULL REFERENCES agencies(id),
    email                 TEXT NOT NULL,
    name                  TEXT NOT NULL,
    role                  TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
    status                TEXT NOT NULL CHECK (status IN ('invited', 'active', 'deactivated')),
    password_hash         TEXT,
    must_change_password  INTEGER NOT NULL DEFAULT 0,
    last_login_at         INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    UNIQUE (agency_id, email)
);

CREATE TABLE clients (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id       INTEGER NOT NULL REFERENCES agencies(id),
    external_id     TEXT,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    address         TEXT NOT NULL DEFAULT '',
    portal_enabled  INTEGER NOT NULL DEFAULT 1,
    notes           TEXT NOT NULL DEFAULT '',
    archived_at     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (agency_id, external_id)
);
CREATE INDEX clients_by_name ON clients (agency_id, name);

CREATE TABLE worksites (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id    INTEGER NOT NULL REFERENCES agencies(id),
    client_id    INTEGER NOT NULL REFERENCES clients(id),
    external_id  TEXT,
    name         TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    UNIQUE (agency_id, external_id)
);
CREATE INDEX worksites_by_client ON worksites (agency_id, client_id);

CREATE TABLE portal_users (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id             INTEGER NOT NULL REFERENCES agencies(id),
    email                 TEXT NOT NULL,
    first_name            TEXT NOT NULL,
    last_name             TEXT NOT NULL,
    -- A role id from the agency's role-set plugin.
    role_id               TEXT NOT NULL,
    -- Multi-client ("Partner") users who see every client of the agency.
    all_clients           INTEGER NOT NULL DEFAULT 0,
    -- Hides the client's portal settings from this user.
    restricted_access     INTEGER NOT NULL DEFAULT 0,
    status                TEXT NOT NULL CHECK (status IN ('invited', 'active', 'deactivated')),
    password_hash         TEXT,
    must_change_password  INTEGER NOT NULL DEFAULT 0,
    last_login_at         INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    UNIQUE (agency_id, email)
);
CREATE INDEX portal_users_by_created ON portal_users (agency_id, created_at);
CREATE INDEX portal_users_by_last_name ON portal_users (agency_id, last_name, first_name);

-- Which clients (and optionally which worksite of each) a portal user may see.
CREATE TABLE portal_user_clients (
    agency_id       INTEGER NOT NULL REFERENCES agencies(id),
    portal_user_id  INTEGER NOT NULL REFERENCES portal_users(id) ON DELETE CASCADE,
    client_id       INTEGER NOT NULL REFERENCES clients(id),
    worksite_id     INTEGER REFERENCES worksites(id),
    PRIMARY KEY (portal_user_id, client_id)
);
CREATE INDEX portal_user_clients_by_client ON portal_user_clients (agency_id, client_id);

CREATE TABLE workers (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id        INTEGER NOT NULL REFERENCES agencies(id),
    external_id      TEXT,
    first_name       TEXT NOT NULL,
    last_name        TEXT NOT NULL,
    email            TEXT NOT NULL DEFAULT '',
    recruiter_email  TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (agency_id, external_id)
);

CREATE TABLE timesheets (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id            INTEGER NOT NULL REFERENCES agencies(id),
    external_id          TEXT,
    client_id            INTEGER NOT NULL REFERENCES clients(id),
    worksite_id          INTEGER REFERENCES worksites(id),
    worker_id            INTEGER NOT NULL REFERENCES workers(id),
    work_date            TEXT NOT NULL,
    start_time           TEXT NOT NULL,
    end_time             TEXT NOT NULL,
    break_minutes        INTEGER NOT NULL DEFAULT 0,
    minutes_worked       INTEGER NOT NULL,
    -- What the agency bills the client per hour: shown to the client.
    charge_rate_cents    INTEGER NOT NULL,
    charge_amount_cents  INTEGER NOT NULL,
    -- What the agency pays the worker per hour: never leaves the manage side.
    pay_rate_cents       INTEGER NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    rejection_reason     TEXT,
    decided_by           INTEGER REFERENCES portal_users(id) ON DELETE SET NULL,
    decided_at           INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (agency_id, external_id)
);
CREATE INDEX timesheets_by_client_date ON timesheets (agency_id, client_id, work_date);
CREATE INDEX timesheets_by_status ON timesheets (agency_id, client_id, status);
CREATE INDEX timesheets_by_updated ON timesheets (agency_id, updated_at);

-- Approval history: every decision and change on a timesheet.
CREATE TABLE timesheet_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id     INTEGER NOT NULL REFERENCES agencies(id),
    timesheet_id  INTEGER NOT NULL REFERENCES timesheets(id) ON DELETE CASCADE,
    action        TEXT NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_id      INTEGER,
    actor_name    TEXT NOT NULL,
    reason        TEXT,
    at            INTEGER NOT NULL
);
CREATE INDEX timesheet_events_by_timesheet ON timesheet_events (timesheet_id);

CREATE TABLE clock_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id    INTEGER NOT NULL REFERENCES agencies(id),
    external_id  TEXT,
    worker_id    INTEGER NOT NULL REFERENCES workers(id),
    client_id    INTEGER NOT NULL REFERENCES clients(id),
    worksite_id  INTEGER REFERENCES worksites(id),
    kind         TEXT NOT NULL CHECK (kind IN ('in', 'out')),
    at           INTEGER NOT NULL,
    UNIQUE (agency_id, external_id)
);
CREATE INDEX clock_events_by_worker ON clock_events (agency_id, client_id, worker_id, at);

CREATE TABLE documents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id    INTEGER NOT NULL REFERENCES agencies(id),
    external_id  TEXT,
    client_id    INTEGER NOT NULL REFERENCES clients(id),
    title        TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    mime_type    TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    content      BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (agency_id, external_id)
);
CREATE INDEX documents_by_client ON documents (agency_id, client_id);

CREATE TABLE invoices (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id        INTEGER NOT NULL REFERENCES agencies(id),
    external_id      TEXT,
    client_id        INTEGER NOT NULL REFERENCES clients(id),
    number           TEXT NOT NULL,
    issued_on        TEXT NOT NULL,
    due_on           TEXT NOT NULL,
    -- 'overdue' is not stored: it is an open invoice past its due date.
    status           TEXT NOT NULL CHECK (status IN ('open', 'paid', 'void')),
    total_cents      INTEGER NOT NULL,
    pdf_document_id  INTEGER REFERENCES documents(id) ON DELETE SET NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (agency_id, external_id)
);
CREATE INDEX invoices_by_client ON invoices (agency_id, client_id, issued_on);

CREATE TABLE invoice_lines (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id          INTEGER NOT NULL REFERENCES agencies(id),
    invoice_id         INTEGER NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    position           INTEGER NOT NULL,
    description        TEXT NOT NULL,
    quantity_hundredths INTEGER NOT NULL,
    unit_price_cents   INTEGER NOT NULL,
    amount_cents       INTEGER NOT NULL
);
CREATE INDEX invoice_lines_by_invoice ON invoice_lines (invoice_id, position);

-- Field-service work: jobs and quotes.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id     INTEGER NOT NULL REFERENCES agencies(id),
    external_id   TEXT,
    client_id     INTEGER NOT NULL REFERENCES clients(id),
    worksite_id   INTEGER REFERENCES worksites(id),
    number        TEXT NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('scheduled', 'in-progress', 'completed', 'cancelled')),
    scheduled_on  TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (agency_id, external_id)
);
CREATE INDEX jobs_by_client ON jobs (agency_id, client_id);

CREATE TABLE quotes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id    INTEGER NOT NULL REFERENCES agencies(id),
    external_id  TEXT,
    client_id    INTEGER NOT NULL REFERENCES clients(id),
    number       TEXT NOT NULL,
    title        TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'declined', 'expired')),
    total_cents  INTEGER NOT NULL,
    valid_until  TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (agency_id, external_id)
);
CREATE INDEX quotes_by_client ON quotes (agency_id, client_id);

CREATE TABLE work_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id       INTEGER NOT NULL REFERENCES agencies(id),
    client_id       INTEGER NOT NULL REFERENCES clients(id),
    worksite_id     INTEGER REFERENCES worksites(id),
    portal_user_id  INTEGER REFERENCES portal_users(id) ON DELETE SET NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    needed_by       TEXT,
    workers_needed  INTEGER,
    urgency         TEXT NOT NULL CHECK (urgency IN ('low', 'normal', 'high', 'urgent')),
    status          TEXT NOT NULL CHECK (status IN ('open', 'in-progress', 'done', 'declined')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX work_requests_by_client ON work_requests (agency_id, client_id, created_at);
CREATE INDEX work_requests_by_updated ON work_requests (agency_id, updated_at);

CREATE TABLE work_request_updates (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id        INTEGER NOT NULL REFERENCES agencies(id),
    work_request_id  INTEGER NOT NULL REFERENCES work_requests(id) ON DELETE CASCADE,
    author_kind      TEXT NOT NULL,
    author_id        INTEGER,
    author_name      TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT,
    at               INTEGER NOT NULL
);
CREATE INDEX work_request_updates_by_request ON work_request_updates (work_request_id);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- SHA-256 of the cookie token: a database leak does not hand out live sessions.
    token_hash    TEXT NOT NULL UNIQUE,
    agency_id     INTEGER NOT NULL REFERENCES agencies(id),
    user_kind     TEXT NOT NULL CHECK (user_kind IN ('staff', 'portal')),
    user_id       INTEGER NOT NULL,
    csrf_token    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_user ON sessions (agency_id, user_kind, user_id);

-- Single-use links (invites, password resets), stored hashed.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id   INTEGER NOT NULL REFERENCES agencies(id),
    token_hash  TEXT NOT NULL UNIQUE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    user_kind   TEXT NOT NULL CHECK (user_kind IN ('staff', 'portal')),
    user_id     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX tokens_by_user ON tokens (agency_id, user_kind, user_id);

-- Email waiting to be delivered, written in the same transaction as the action behind it.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id        INTEGER NOT NULL REFERENCES agencies(id),
    template         TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  INTEGER NOT NULL,
    locked_until     INTEGER,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_agency ON outbox (agency_id, created_at);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id     INTEGER NOT NULL REFERENCES agencies(id),
    at            INTEGER NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_id      INTEGER,
    actor_label   TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_kind   TEXT,
    target_id     INTEGER,
    target_label  TEXT,
    ip            TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_agency ON audit_log (agency_id, at);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id     INTEGER NOT NULL REFERENCES agencies(id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    -- The first characters of the token, shown in lists so an admin can tell tokens apart.
    prefix        TEXT NOT NULL,
    created_by    INTEGER REFERENCES staff_users(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);

-- Failed sign-in counters per account and per client address, shared by every server process.
CREATE TABLE login_throttle (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    window_start  INTEGER NOT NULL,
    locked_until  INTEGER
);
