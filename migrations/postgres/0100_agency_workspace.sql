-- The agency's half of what clients do.
--
-- Work requests get the lifecycle staff move them through (new → acknowledged → scheduled →
-- done, or declined), the team member a request is assigned to, the date it is scheduled for,
-- and notes that stay inside the agency. The old statuses are renamed: open → new,
-- in-progress → acknowledged.
ALTER TABLE work_requests DROP CONSTRAINT work_requests_status_check;
UPDATE work_requests SET status = CASE status WHEN 'open' THEN 'new'
    WHEN 'in-progress' THEN 'acknowledged' ELSE status END;
UPDATE work_request_updates SET status = CASE status WHEN 'open' THEN 'new'
    WHEN 'in-progress' THEN 'acknowledged' ELSE status END
    WHERE status IN ('open', 'in-progress');
ALTER TABLE work_requests ADD CONSTRAINT work_requests_status_check
    CHECK (status IN ('new', 'acknowledged', 'scheduled', 'done', 'declined'));
ALTER TABLE work_requests ADD COLUMN assigned_to BIGINT
    REFERENCES staff_users(id) ON DELETE SET NULL;
ALTER TABLE work_requests ADD COLUMN scheduled_for TEXT;
CREATE INDEX work_requests_open ON work_requests (agency_id, status, urgency, created_at)
    WHERE status IN ('new', 'acknowledged', 'scheduled');
-- A note among the agency's staff: never shown to the client, never emailed to it.
ALTER TABLE work_request_updates ADD COLUMN internal INTEGER NOT NULL DEFAULT 0;

-- Decisions staff make for a client ("approved by phone with …"): who at the agency, and the
-- evidence they gave. `decided_by` stays the portal user when the client decided.
ALTER TABLE timesheets ADD COLUMN decided_by_staff BIGINT
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
    id              BIGSERIAL PRIMARY KEY,
    agency_id       BIGINT NOT NULL REFERENCES agencies(id),
    client_id       BIGINT REFERENCES clients(id),
    week_start      TEXT NOT NULL,
    week_end        TEXT NOT NULL,
    locked_by       BIGINT REFERENCES staff_users(id) ON DELETE SET NULL,
    locked_by_name  TEXT NOT NULL,
    locked_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX timesheet_locks_once
    ON timesheet_locks (agency_id, week_start, COALESCE(client_id, 0));

-- Days a client has to decide a timesheet (from its work date) before the staff home counts
-- it overdue.
ALTER TABLE agency_settings ADD COLUMN approval_deadline_days BIGINT;
