-- Totals by calendar month beside those of migration 0050, so that a report by worker or by
-- worksite over a year adds twelve months of totals rather than fifty-two weeks (104,000
-- rows for a partner of `cargo xtask bench-timesheets`). Kept like the others: the
-- statement-level triggers of 0050 apply a statement's timesheets counted in and out, in the
-- transaction of the write; a row exists while at least one timesheet counts in it. `sheets`
-- counts every timesheet; `entries`, `minutes` and `charge_cents` only those not rejected. Pay
-- rates are not kept here.

-- By client, month (its first day, `YYYY-MM-DD`), worker and worksite (0 when none).
CREATE TABLE timesheet_month_totals (
    agency_id     BIGINT NOT NULL,
    client_id     BIGINT NOT NULL,
    month         TEXT NOT NULL,
    worker_id     BIGINT NOT NULL,
    worksite_id   BIGINT NOT NULL,
    sheets        BIGINT NOT NULL,
    entries       BIGINT NOT NULL,
    minutes       BIGINT NOT NULL,
    charge_cents  BIGINT NOT NULL,
    PRIMARY KEY (agency_id, client_id, month, worker_id, worksite_id)
);

-- The first day of a `YYYY-MM-DD` date's month, spelled the same way.
CREATE FUNCTION timesheet_month(work_date TEXT) RETURNS TEXT
LANGUAGE sql STABLE STRICT AS $$
    SELECT to_char(work_date::date - (extract(day FROM work_date::date)::int - 1), 'YYYY-MM-DD')
$$;

-- Counts timesheets into the month totals (`added`) and out of them (`removed`), as
-- `timesheet_totals_apply` does for the others: changes that cancel out touch nothing, and
-- rows are written in key order.
CREATE FUNCTION timesheet_month_totals_apply(added timesheets[], removed timesheets[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    WITH changes AS (
        SELECT a.agency_id, a.client_id, COALESCE(a.worksite_id, 0) AS worksite_id,
               a.worker_id, timesheet_month(a.work_date) AS month, 1 AS sheets,
               CASE WHEN a.status <> 'rejected' THEN 1 ELSE 0 END AS entries,
               a.minutes_worked, a.charge_amount_cents
        FROM unnest(added) a
        UNION ALL
        SELECT r.agency_id, r.client_id, COALESCE(r.worksite_id, 0), r.worker_id,
               timesheet_month(r.work_date), -1,
               CASE WHEN r.status <> 'rejected' THEN -1 ELSE 0 END,
               r.minutes_worked, r.charge_amount_cents
        FROM unnest(removed) r
    )
    INSERT INTO timesheet_month_totals AS m
        (agency_id, client_id, month, worker_id, worksite_id, sheets, entries, minutes,
         charge_cents)
    SELECT agency_id, client_id, month, worker_id, worksite_id, SUM(sheets), SUM(entries),
           SUM(entries * minutes_worked), SUM(entries * charge_amount_cents)
    FROM changes
    GROUP BY agency_id, client_id, month, worker_id, worksite_id
    HAVING SUM(sheets) <> 0 OR SUM(entries) <> 0 OR SUM(entries * minutes_worked) <> 0
        OR SUM(entries * charge_amount_cents) <> 0
    ORDER BY agency_id, client_id, month, worker_id, worksite_id
    ON CONFLICT (agency_id, client_id, month, worker_id, worksite_id) DO UPDATE SET
        sheets = m.sheets + excluded.sheets, entries = m.entries + excluded.entries,
        minutes = m.minutes + excluded.minutes,
        charge_cents = m.charge_cents + excluded.charge_cents;

    DELETE FROM timesheet_month_totals m USING unnest(removed) r
    WHERE m.sheets = 0 AND m.agency_id = r.agency_id AND m.client_id = r.client_id
      AND m.month = timesheet_month(r.work_date) AND m.worker_id = r.worker_id
      AND m.worksite_id = COALESCE(r.worksite_id, 0);
END $$;

-- The triggers of 0050 now count a statement's rows into the month totals too; the rows are
-- gathered from the transition tables once for both.
CREATE OR REPLACE FUNCTION timesheets_follow_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    added timesheets[] := '{}';
    removed timesheets[] := '{}';
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        added := ARRAY(SELECT n::timesheets FROM new_rows n);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        removed := ARRAY(SELECT o::timesheets FROM old_rows o);
    END IF;
    PERFORM timesheet_totals_apply(added, removed);
    PERFORM timesheet_month_totals_apply(added, removed);
    RETURN NULL;
END $$;

-- The timesheets already stored.
SELECT timesheet_month_totals_apply(ARRAY(SELECT t FROM timesheets t), '{}');
