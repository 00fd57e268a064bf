-- `portal plugin reload` bumps the generation; every running server polls it and reloads its
-- plugins when it changes, so one command reaches every instance sharing the database.
CREATE TABLE plugin_reloads (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  BIGINT NOT NULL
);

INSERT INTO plugin_reloads (id, generation) VALUES (1, 0);
