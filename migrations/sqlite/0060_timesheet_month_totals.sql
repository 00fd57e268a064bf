-- Totals by calendar month beside those of migration 0050, so that a report by worker or by
-- worksite over a year adds twelve months of totals rather than fifty-two weeks (104,000
-- rows for a partner of `cargo xtask bench-timesheets`). Kept like the others: a trigger on
-- the changes view of 0050 applies each timesheet counted in or out, in the transaction of
-- the write; a row exists while at least one timesheet counts in it. `sheets` counts every
-- timesheet; `entries`, `minutes` and `charge_cents` only those not rejected. Pay rates are
-- not kept here.

-- By client, month (its first day, `YYYY-MM-DD`), worker and worksite (0 when none).
CREATE TABLE timesheet_month_totals (
    agency_id     INTEGER NOT NULL,
    client_id     INTEGER NOT NULL,
    month         TEXT NOT NULL,
    worker_id     INTEGER NOT NULL,
    worksite_id   INTEGER NOT NULL,
    sheets        INTEGER NOT NULL,
    entries       INTEGER NOT NULL,
    minutes       INTEGER NOT NULL,
    charge_cents  INTEGER NOT NULL,
    PRIMARY KEY (agency_id, client_id, month, worker_id, worksite_id)
) WITHOUT ROWID;

-- Fires beside `timesheet_total_changes_apply` for every timesheet counted in or out.
CREATE TRIGGER timesheet_total_changes_apply_months INSTEAD OF INSERT ON timesheet_total_changes
BEGIN
    INSERT INTO timesheet_month_totals
        (agency_id, client_id, month, worker_id, worksite_id, sheets, entries, minutes,
         charge_cents)
    VALUES (NEW.agency_id, NEW.client_id, date(NEW.work_date, 'start of month'),
            NEW.worker_id, COALESCE(NEW.worksite_id, 0), NEW.sign,
            NEW.sign * (NEW.status <> 'rejected'),
            NEW.sign * (NEW.status <> 'rejected') * NEW.minutes_worked,
            NEW.sign * (NEW.status <> 'rejected') * NEW.charge_amount_cents)
    ON CONFLICT (agency_id, client_id, month, worker_id, worksite_id) DO UPDATE SET
        sheets = sheets + excluded.sheets, entries = entries + excluded.entries,
        minutes = minutes + excluded.minutes, charge_cents = charge_cents + excluded.charge_cents;
    DELETE FROM timesheet_month_totals
    WHERE NEW.sign < 0 AND sheets = 0 AND agency_id = NEW.agency_id
      AND client_id = NEW.client_id AND month = date(NEW.work_date, 'start of month')
      AND worker_id = NEW.worker_id AND worksite_id = COALESCE(NEW.worksite_id, 0);
END;

-- The timesheets already stored, added up here: inserting them into the changes view would
-- count them a second time into the totals of 0050.
INSERT INTO timesheet_month_totals
    (agency_id, client_id, month, worker_id, worksite_id, sheets, entries, minutes, charge_cents)
SELECT agency_id, client_id, date(work_date, 'start of month'), worker_id,
       COALESCE(worksite_id, 0), COUNT(*), SUM(status <> 'rejected'),
       SUM((status <> 'rejected') * minutes_worked),
       SUM((status <> 'rejected') * charge_amount_cents)
FROM timesheets
GROUP BY agency_id, client_id, date(work_date, 'start of month'), worker_id,
         COALESCE(worksite_id, 0);
