-- Hook calls that failed in the server (trap, timeout, a limit, a broken answer), with the
-- input they were given, so admins see recent failures per plugin and `portal plugin replay`
-- can run the same call again. The newest 50 per agency and plugin are kept.
CREATE TABLE plugin_failures (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id       INTEGER NOT NULL REFERENCES agencies(id),
    plugin_id       TEXT NOT NULL,
    plugin_version  TEXT NOT NULL,
    hook            TEXT NOT NULL,
    cause           TEXT NOT NULL,
    -- The call as a `portal plugin test` case (JSON); NULL when it was too large to keep.
    input           TEXT,
    at              INTEGER NOT NULL
);

CREATE INDEX plugin_failures_by_plugin ON plugin_failures (agency_id, plugin_id, id);
