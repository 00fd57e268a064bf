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
    agency_id     BIGINT NOT NULL,
    client_id     BIGINT NOT NULL,
    work_date     TEXT NOT NULL,
    sheets        BIGINT NOT NULL,
    pending       BIGINT NOT NULL,
    entries       BIGINT NOT NULL,
    minutes       BIGINT NOT NULL,
    charge_cents  BIGINT NOT NULL,
    PRIMARY KEY (agency_id, client_id, work_date)
);

-- By client, week (its Monday, `YYYY-MM-DD`), worker and worksite (0 when none): reports by
-- worker and by worksite take whole weeks from here and the few days of a partial week from
-- the timesheets.
CREATE TABLE timesheet_week_totals (
    agency_id     BIGINT NOT NULL,
    client_id     BIGINT NOT NULL,
    week          TEXT NOT NULL,
    worker_id     BIGINT NOT NULL,
    worksite_id   BIGINT NOT NULL,
    sheets        BIGINT NOT NULL,
    entries       BIGINT NOT NULL,
    minutes       BIGINT NOT NULL,
    charge_cents  BIGINT NOT NULL,
    PRIMARY KEY (agency_id, client_id, week, worker_id, worksite_id)
);

-- Which workers have timesheets at which client: the timesheet list's worker choices.
CREATE TABLE timesheet_client_workers (
    agency_id  BIGINT NOT NULL,
    client_id  BIGINT NOT NULL,
    worker_id  BIGINT NOT NULL,
    sheets     BIGINT NOT NULL,
    PRIMARY KEY (agency_id, client_id, worker_id)
);

-- The Monday of a `YYYY-MM-DD` date's week, spelled the same way.
CREATE FUNCTION timesheet_week(work_date TEXT) RETURNS TEXT
LANGUAGE sql STABLE STRICT AS $$
    SELECT to_char(work_date::date - (extract(isodow FROM work_date::date)::int - 1), 'YYYY-MM-DD')
$$;

-- Counts timesheets into the totals (`added`) and out of them (`removed`), a statement's rows
-- at once: changes that cancel out (an update that leaves a row's totals as they were) touch
-- nothing, and the rows of each table are written in key order.
CREATE FUNCTION timesheet_totals_apply(added timesheets[], removed timesheets[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    written BIGINT;
BEGIN
    WITH changes AS (
        SELECT a.agency_id, a.client_id, COALESCE(a.worksite_id, 0) AS worksite_id,
               a.worker_id, a.work_date, 1 AS sheets,
               CASE WHEN a.status = 'pending' THEN 1 ELSE 0 END AS pending,
               CASE WHEN a.status <> 'rejected' THEN 1 ELSE 0 END AS entries,
               a.minutes_worked, a.charge_amount_cents
        FROM unnest(added) a
        UNION ALL
        SELECT r.agency_id, r.client_id, COALESCE(r.worksite_id, 0), r.worker_id, r.work_date,
               -1, CASE WHEN r.status = 'pending' THEN -1 ELSE 0 END,
               CASE WHEN r.status <> 'rejected' THEN -1 ELSE 0 END,
               r.minutes_worked, r.charge_amount_cents
        FROM unnest(removed) r
    ), days AS (
        INSERT INTO timesheet_day_totals AS d
            (agency_id, client_id, work_date, sheets, pending, entries, minutes, charge_cents)
        SELECT agency_id, client_id, work_date, SUM(sheets), SUM(pending), SUM(entries),
               SUM(entries * minutes_worked), SUM(entries * charge_amount_cents)
        FROM changes
        GROUP BY agency_id, client_id, work_date
        HAVING SUM(sheets) <> 0 OR SUM(pending) <> 0 OR SUM(entries) <> 0
            OR SUM(entries * minutes_worked) <> 0 OR SUM(entries * charge_amount_cents) <> 0
        ORDER BY agency_id, client_id, work_date
        ON CONFLICT (agency_id, client_id, work_date) DO UPDATE SET
            sheets = d.sheets + excluded.sheets, pending = d.pending + excluded.pending,
            entries = d.entries + excluded.entries, minutes = d.minutes + excluded.minutes,
            charge_cents = d.charge_cents + excluded.charge_cents
        RETURNING 1
    ), weeks AS (
        INSERT INTO timesheet_week_totals AS w
            (agency_id, client_id, week, worker_id, worksite_id, sheets, entries, minutes,
             charge_cents)
        SELECT agency_id, client_id, timesheet_week(work_date), worker_id, worksite_id,
               SUM(sheets), SUM(entries), SUM(entries * minutes_worked),
               SUM(entries * charge_amount_cents)
        FROM changes
        GROUP BY agency_id, client_id, timesheet_week(work_date), worker_id, worksite_id
        HAVING SUM(sheets) <> 0 OR SUM(entries) <> 0 OR SUM(entries * minutes_worked) <> 0
            OR SUM(entries * charge_amount_cents) <> 0
        ORDER BY agency_id, client_id, timesheet_week(work_date), worker_id, worksite_id
        ON CONFLICT (agency_id, client_id, week, worker_id, worksite_id) DO UPDATE SET
            sheets = w.sheets + excluded.sheets, entries = w.entries + excluded.entries,
            minutes = w.minutes + excluded.minutes,
            charge_cents = w.charge_cents + excluded.charge_cents
        RETURNING 1
    ), workers AS (
        INSERT INTO timesheet_client_workers AS c (agency_id, client_id, worker_id, sheets)
        SELECT agency_id, client_id, worker_id, SUM(sheets)
        FROM changes
        GROUP BY agency_id, client_id, worker_id
        HAVING SUM(sheets) <> 0
        ORDER BY agency_id, client_id, worker_id
        ON CONFLICT (agency_id, client_id, worker_id) DO UPDATE SET
            sheets = c.sheets + excluded.sheets
        RETURNING 1
    )
    SELECT (SELECT COUNT(*) FROM days) + (SELECT COUNT(*) FROM weeks)
         + (SELECT COUNT(*) FROM workers)
    INTO written;

    DELETE FROM timesheet_day_totals d USING unnest(removed) r
    WHERE d.sheets = 0 AND d.agency_id = r.agency_id AND d.client_id = r.client_id
      AND d.work_date = r.work_date;
    DELETE FROM timesheet_week_totals w USING unnest(removed) r
    WHERE w.sheets = 0 AND w.agency_id = r.agency_id AND w.client_id = r.client_id
      AND w.week = timesheet_week(r.work_date) AND w.worker_id = r.worker_id
      AND w.worksite_id = COALESCE(r.worksite_id, 0);
    DELETE FROM timesheet_client_workers c USING unnest(removed) r
    WHERE c.sheets = 0 AND c.agency_id = r.agency_id AND c.client_id = r.client_id
      AND c.worker_id = r.worker_id;
END $$;

-- Statement-level, with the statement's rows as transition tables: a bulk insert adds to
-- each totals row once, not once per timesheet.
CREATE FUNCTION timesheets_follow_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM timesheet_totals_apply(ARRAY(SELECT n::timesheets FROM new_rows n), '{}');
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM timesheet_totals_apply(ARRAY(SELECT n::timesheets FROM new_rows n),
                                       ARRAY(SELECT o::timesheets FROM old_rows o));
    ELSE
        PERFORM timesheet_totals_apply('{}', ARRAY(SELECT o::timesheets FROM old_rows o));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER timesheets_totals_on_insert AFTER INSERT ON timesheets
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION timesheets_follow_totals();
CREATE TRIGGER timesheets_totals_on_update AFTER UPDATE ON timesheets
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION timesheets_follow_totals();
CREATE TRIGGER timesheets_totals_on_delete AFTER DELETE ON timesheets
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION timesheets_follow_totals();

-- The timesheets already stored.
SELECT timesheet_totals_apply(ARRAY(SELECT t FROM timesheets t), '{}');
