-- Totals of the timesheets kept beside them, so that the portal's reports, the dashboard and
-- the list's worker choices read a few thousand rows instead of every timesheet of the
-- clients (a million in `cargo xtask bench-timesheets`). Triggers keep them in the same
-- transaction as each write to `timesheets`, whichever code path makes it: the portal's
-- decisions, the data feed, the CSV import, the demo data. A totals row exists while at least
-- one timesheet counts in it.
--
-- In each table `sheets` counts every timesheet; `entries`, `minutes` and `charge_cents`
-- only those not rejected (what reports add up); `pending` those awaiting a decision. Pay
-- rates are not kept here.

-- By client and day: reports by week, the dashboard's hours and its pending count.
CREATE TABLE timesheet_day_totals (
    agency_id     INTEGER NOT NULL,
    client_id     INTEGER NOT NULL,
    work_date     TEXT NOT NULL,
    sheets        INTEGER NOT NULL,
    pending       INTEGER NOT NULL,
    entries       INTEGER NOT NULL,
    minutes       INTEGER NOT NULL,
    charge_cents  INTEGER NOT NULL,
    PRIMARY KEY (agency_id, client_id, work_date)
) WITHOUT ROWID;

-- By client, week (its Monday, `YYYY-MM-DD`), worker and worksite (0 when none): reports by
-- worker and by worksite take whole weeks from here and the few days of a partial week from
-- the timesheets.
CREATE TABLE timesheet_week_totals (
    agency_id     INTEGER NOT NULL,
    client_id     INTEGER NOT NULL,
    week          TEXT NOT NULL,
    worker_id     INTEGER NOT NULL,
    worksite_id   INTEGER NOT NULL,
    sheets        INTEGER NOT NULL,
    entries       INTEGER NOT NULL,
    minutes       INTEGER NOT NULL,
    charge_cents  INTEGER NOT NULL,
    PRIMARY KEY (agency_id, client_id, week, worker_id, worksite_id)
) WITHOUT ROWID;

-- Which workers have timesheets at which client: the timesheet list's worker choices.
CREATE TABLE timesheet_client_workers (
    agency_id  INTEGER NOT NULL,
    client_id  INTEGER NOT NULL,
    worker_id  INTEGER NOT NULL,
    sheets     INTEGER NOT NULL,
    PRIMARY KEY (agency_id, client_id, worker_id)
) WITHOUT ROWID;

-- One timesheet counted into the totals (`sign` 1) or out of them (-1). Inserting into this
-- view applies the change; the triggers on `timesheets` below and the first filling do so.
CREATE VIEW timesheet_total_changes AS
SELECT agency_id, client_id, worksite_id, worker_id, work_date, status, minutes_worked,
       charge_amount_cents, 0 AS sign
FROM timesheets WHERE 0;

CREATE TRIGGER timesheet_total_changes_apply INSTEAD OF INSERT ON timesheet_total_changes
BEGIN
    INSERT INTO timesheet_day_totals
        (agency_id, client_id, work_date, sheets, pending, entries, minutes, charge_cents)
    VALUES (NEW.agency_id, NEW.client_id, NEW.work_date, NEW.sign,
            NEW.sign * (NEW.status = 'pending'), NEW.sign * (NEW.status <> 'rejected'),
            NEW.sign * (NEW.status <> 'rejected') * NEW.minutes_worked,
            NEW.sign * (NEW.status <> 'rejected') * NEW.charge_amount_cents)
    ON CONFLICT (agency_id, client_id, work_date) DO UPDATE SET
        sheets = sheets + excluded.sheets, pending = pending + excluded.pending,
        entries = entries + excluded.entries, minutes = minutes + excluded.minutes,
        charge_cents = charge_cents + excluded.charge_cents;
    INSERT INTO timesheet_week_totals
        (agency_id, client_id, week, worker_id, worksite_id, sheets, entries, minutes,
         charge_cents)
    VALUES (NEW.agency_id, NEW.client_id, date(NEW.work_date, '-6 days', 'weekday 1'),
            NEW.worker_id, COALESCE(NEW.worksite_id, 0), NEW.sign,
            NEW.sign * (NEW.status <> 'rejected'),
            NEW.sign * (NEW.status <> 'rejected') * NEW.minutes_worked,
            NEW.sign * (NEW.status <> 'rejected') * NEW.charge_amount_cents)
    ON CONFLICT (agency_id, client_id, week, worker_id, worksite_id) DO UPDATE SET
        sheets = sheets + excluded.sheets, entries = entries + excluded.entries,
        minutes = minutes + excluded.minutes, charge_cents = charge_cents + excluded.charge_cents;
    INSERT INTO timesheet_client_workers (agency_id, client_id, worker_id, sheets)
    VALUES (NEW.agency_id, NEW.client_id, NEW.worker_id, NEW.sign)
    ON CONFLICT (agency_id, client_id, worker_id) DO UPDATE SET
        sheets = sheets + excluded.sheets;
    DELETE FROM timesheet_day_totals
    WHERE NEW.sign < 0 AND sheets = 0 AND agency_id = NEW.agency_id
      AND client_id = NEW.client_id AND work_date = NEW.work_date;
    DELETE FROM timesheet_week_totals
    WHERE NEW.sign < 0 AND sheets = 0 AND agency_id = NEW.agency_id
      AND client_id = NEW.client_id AND week = date(NEW.work_date, '-6 days', 'weekday 1')
      AND worker_id = NEW.worker_id AND worksite_id = COALESCE(NEW.worksite_id, 0);
    DELETE FROM timesheet_client_workers
    WHERE NEW.sign < 0 AND sheets = 0 AND agency_id = NEW.agency_id
      AND client_id = NEW.client_id AND worker_id = NEW.worker_id;
END;

CREATE TRIGGER timesheets_totals_on_insert AFTER INSERT ON timesheets
BEGIN
    INSERT INTO timesheet_total_changes VALUES (NEW.agency_id, NEW.client_id, NEW.worksite_id,
        NEW.worker_id, NEW.work_date, NEW.status, NEW.minutes_worked, NEW.charge_amount_cents, 1);
END;

CREATE TRIGGER timesheets_totals_on_update
AFTER UPDATE OF client_id, worksite_id, worker_id, work_date, status, minutes_worked,
    charge_amount_cents ON timesheets
BEGIN
    INSERT INTO timesheet_total_changes VALUES (OLD.agency_id, OLD.client_id, OLD.worksite_id,
        OLD.worker_id, OLD.work_date, OLD.status, OLD.minutes_worked, OLD.charge_amount_cents, -1);
    INSERT INTO timesheet_total_changes VALUES (NEW.agency_id, NEW.client_id, NEW.worksite_id,
        NEW.worker_id, NEW.work_date, NEW.status, NEW.minutes_worked, NEW.charge_amount_cents, 1);
END;

CREATE TRIGGER timesheets_totals_on_delete AFTER DELETE ON timesheets
BEGIN
    INSERT INTO timesheet_total_changes VALUES (OLD.agency_id, OLD.client_id, OLD.worksite_id,
        OLD.worker_id, OLD.work_date, OLD.status, OLD.minutes_worked, OLD.charge_amount_cents, -1);
END;

-- The timesheets already stored.
INSERT INTO timesheet_total_changes
SELECT agency_id, client_id, worksite_id, worker_id, work_date, status, minutes_worked,
       charge_amount_cents, 1
FROM timesheets;
