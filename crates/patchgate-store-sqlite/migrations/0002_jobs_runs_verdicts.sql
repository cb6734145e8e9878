-- 2: jobs, runs, verdicts
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL UNIQUE,
    series_id    INTEGER REFERENCES series(id),
    tree         TEXT NOT NULL,
    commit_id    TEXT,
    suite        TEXT,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    token        INTEGER NOT NULL DEFAULT 0,
    worker       TEXT,
    lease_secs   INTEGER,
    lease_until  INTEGER,
    enqueued_at  INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    outcome      TEXT
);
CREATE INDEX jobs_claim ON jobs(status, id);
CREATE INDEX jobs_series ON jobs(series_id);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    commit_id   TEXT NOT NULL,
    suite       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    started     INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    output      TEXT NOT NULL,
    UNIQUE (commit_id, fingerprint, attempt)
);
CREATE INDEX runs_suite ON runs(suite, started, id);

CREATE TABLE run_tests (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    name   TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
);
CREATE INDEX run_tests_name ON run_tests(name, run_id);

CREATE TABLE verdicts (
    id        INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL REFERENCES series(id),
    branch    TEXT NOT NULL,
    at        INTEGER NOT NULL,
    verdict   TEXT NOT NULL
);
CREATE INDEX verdicts_series ON verdicts(series_id, branch, id);
