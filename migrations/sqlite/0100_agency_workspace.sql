-- The agency's half of what clients do.
--
-- Work requests get the lifecycle staff move them through (new → acknowledged → scheduled →
-- done, or declined), the team member a request is assigned to, the date it is scheduled for,
-- and notes that stay inside the agency. SQLite cannot change a CHECK constraint in place, so
-- both tables are rebuilt (children first, so that no cascade runs) with the old statuses
-- renamed: open → new, in-progress → acknowledged.
CREATE TABLE work_requests_next (
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
    status          TEXT NOT NULL
                    CHECK (status IN ('new', 'acknowledged', 'scheduled', 'done', 'declined')),
    assigned_to     INTEGER REFERENCES staff_users(id) ON DELETE SET NULL,
    scheduled_for   TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
INSERT INTO work_requests_next (id, agency_id, client_id, worksite_id, portal_user_id, title,
    description, needed_by, workers_needed, urgency, status, created_at, updated_at)
SELECT id, agency_id, client_id, worksite_id, portal_user_id, title, description, needed_by,
    workers_needed, urgency,
    CASE status WHEN 'open' THEN 'new' WHEN 'in-progress' THEN 'acknowledged' ELSE status END,
    created_at, updated_at
FROM work_requests;

CREATE TABLE work_request_updates_next (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id        INTEGER NOT NULL REFERENCES agencies(id),
    work_request_id  INTEGER NOT NULL REFERENCES work_requests_next(id) ON DELETE CASCADE,
    author_kind      TEXT NOT NULL,
    author_id        INTEGER,
    author_name      TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT,
    -- A note among the agency's staff: never shown to the client, never emailed to it.
    internal         INTEGER NOT NULL DEFAULT 0,
    at               INTEGER NOT NULL
);
INSERT INTO work_request_updates_next (id, agency_id, work_request_id, author_kind, author_id,
    author_name, body, status, at)
SELECT id, agency_id, work_request_id, author_kind, author_id, author_name, body,
    CASE status WHEN 'open' THEN 'new' WHEN 'in-progress' THEN 'acknowledged' ELSE status END,
    at
FROM work_request_updates;

DROP TABLE work_request_updates;
DROP TABLE work_requests;
ALTER TABLE work_requests_next RENAME TO work_requests;
ALTER TABLE work_request_updates_next RENAME TO work_request_updates;
CREATE INDEX work_requests_by_client ON work_requests (agency_id, client_id, created_at);
CREATE INDEX work_requests_by_updated ON work_requests (agency_id, updated_at);
CREATE INDEX work_requests_open ON work_requests (agency_id, status, urgency, created_at)
    WHERE status IN ('new', 'acknowledged', 'scheduled');
CREATE INDEX work_request_updates_by_request ON work_request_updates (work_request_id);

-- Decisions staff make for a client ("approved by phone with …"): who at the agency, and the
-- evidence they gave. `decided_by` stays the portal user when the client decided.
ALTER TABLE timesheets ADD COLUMN decided_by_staff INTEGER
    REFERENCES staff_users(id) ON DELETE SET NULL;
ALTER TABLE timesheets ADD COLUMN decision_note TEXT;

-- What waits for someone (pending for the client, rejected for the agency), read by the
-- staff home per client without touching the approved million.
CREATE INDEX timesheets_open ON timesheets
    (agency_id, status, client_id, work_date, minutes_worked, charge_amount_cents)
    WHERE status <> 'approved';

-- Pay-period locks: once payroll has run for a week (Monday to Sunday), its timesheets — of
-- one client, or of every client when `client_id` is NULL — cannot be decided, corrected or
-- changed by the feed.
CREATE TABLE timesheet_locks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id       INTEGER NOT NULL REFERENCES agencies(id),
    client_id       INTEGER REFERENCES clients(id),
    week_start      TEXT NOT NULL,
    week_end        TEXT NOT NULL,
    locked_by       INTEGER REFERENCES staff_users(id) ON DELETE SET NULL,
    locked_by_name  TEXT NOT NULL,
    locked_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX timesheet_locks_once
    ON timesheet_locks (agency_id, week_start, COALESCE(client_id, 0));

-- Days a client has to decide a timesheet (from its work date) before the staff home counts
-- it overdue.
ALTER TABLE agency_settings ADD COLUMN approval_deadline_days INTEGER;
