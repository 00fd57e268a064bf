-- The portal's timesheet list and reports over a client's timesheets: by status and date
-- (the pending list, approve-all-shown) and by worker (the worker filter and its choices).
CREATE INDEX timesheets_by_client_status_date ON timesheets (agency_id, client_id, status, work_date);
CREATE INDEX timesheets_by_worker ON timesheets (agency_id, worker_id, client_id);
-- Newest first across many clients (a Partner's list): walk the dates, not sort them.
CREATE INDEX timesheets_by_date ON timesheets (agency_id, work_date, id);
