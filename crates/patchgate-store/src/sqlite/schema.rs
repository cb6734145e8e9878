//! The SQLite schema and its numbered migrations.
//!
//! Each migration runs in its own `BEGIN IMMEDIATE` transaction together
//! with the row that records it in `schema_migrations`, so a database is
//! always at exactly one version, and two processes opening a fresh file at
//! once cannot both apply the same step (the second sees the first's row).
//! Migrations are append-only: never edit one that has shipped, add the next.
//!
//! DML elsewhere sticks to SQL that PostgreSQL also speaks (`ON CONFLICT`,
//! `RETURNING`); the DDL here is SQLite's own.

use crate::error::{Error, Result};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// One step of the schema.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
    /// Rust run after `sql` in the same transaction, for data SQL cannot
    /// derive (values computed by the series crate).
    backfill: Option<fn(&Connection) -> rusqlite::Result<()>>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "messages, series, topics, events, cursors",
        sql: r#"
-- One row per Message-ID. The summary columns serve listing; `mail` is the
-- JSON of patchgate_series::Mail, read back by assembly for the rows with
-- for_assembly = 1. Raw bytes live apart so scans never page them in.
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    from_name    TEXT NOT NULL,
    from_email   TEXT NOT NULL,
    date         INTEGER,
    list_id      TEXT,
    problems     TEXT,              -- JSON array; NULL for a clean mail
    source       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    for_assembly INTEGER NOT NULL,
    mail         TEXT NOT NULL
);
CREATE INDEX messages_problems ON messages(id) WHERE problems IS NOT NULL;

CREATE TABLE message_raw (
    message INTEGER PRIMARY KEY REFERENCES messages(id),
    raw     BLOB NOT NULL
);

CREATE TABLE cursors (
    source_key TEXT PRIMARY KEY,
    value      TEXT NOT NULL
);

CREATE TABLE topics (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL,      -- assembly's key as last applied
    merged_into INTEGER REFERENCES topics(id),
    live        INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);
CREATE INDEX topics_key ON topics(key);

CREATE TABLE series (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL,    -- assembly's key as last applied
    topic_id      INTEGER NOT NULL REFERENCES topics(id),
    version       INTEGER NOT NULL,
    subject       TEXT NOT NULL,
    author_name   TEXT NOT NULL,
    author_email  TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    cover_id      TEXT,
    total         INTEGER NOT NULL,
    received      INTEGER,
    complete      INTEGER NOT NULL,
    missing       TEXT NOT NULL,    -- JSON array of indices
    tags          TEXT NOT NULL,    -- JSON array
    base_commit   TEXT,
    change_id     TEXT,
    superseded_by INTEGER REFERENCES series(id),
    merged_into   INTEGER REFERENCES series(id),
    live          INTEGER NOT NULL DEFAULT 1,
    state         TEXT NOT NULL DEFAULT 'new',  -- cache of the event fold
    snapshot      TEXT NOT NULL,    -- assembled Series as last applied, JSON
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX series_topic ON series(topic_id);
CREATE INDEX series_state ON series(state, id) WHERE live = 1;

-- Current membership: each message is in at most one series. idx 0 is the
-- cover letter; `collected` is the JSON array of trailers from replies.
CREATE TABLE series_mails (
    message_id TEXT PRIMARY KEY,
    series_id  INTEGER NOT NULL REFERENCES series(id),
    idx        INTEGER NOT NULL,
    collected  TEXT NOT NULL
);
CREATE INDEX series_mails_series ON series_mails(series_id, idx);

CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL REFERENCES series(id),
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX events_series ON events(series_id, id);
"#,
        backfill: None,
    },
    Migration {
        version: 2,
        name: "jobs, runs, verdicts",
        sql: r#"
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
"#,
        backfill: None,
    },
    Migration {
        version: 3,
        name: "runs keep how they ended and what was parsed",
        sql: r#"
-- JSON of the gate's SuiteRun (how the run ended, the parsed results with
-- their completeness and problems): what classification reads back when a
-- stored run is reused.
ALTER TABLE runs ADD COLUMN detail TEXT NOT NULL DEFAULT 'null';
"#,
        backfill: None,
    },
    Migration {
        version: 4,
        name: "relation keys and pending marks for scoped assembly",
        sql: r#"
-- Every relation key (patchgate_series::relation_keys) of every assembly
-- mail, as a 64-bit hash: mails sharing a key may affect each other's
-- series, so scoped assembly expands new mails to their connected mails
-- through this index. A hash collision only widens that set. Derived data,
-- rebuilt by the backfill, so no foreign key slows the ingest hot path.
CREATE TABLE assembly_keys (
    key     INTEGER NOT NULL,
    message INTEGER NOT NULL,
    PRIMARY KEY (key, message)
) WITHOUT ROWID;

-- Assembly mails stored but not yet assembled. Written with the message
-- and cleared with the reconcile that covers it, so a crash between
-- ingest and assembly leaves the work marked, never lost.
CREATE TABLE assembly_pending (
    message INTEGER PRIMARY KEY
);
-- Existing mails are assembled once more on the next ingest: a database
-- whose last ingest stopped before assembly is made whole that way.
INSERT INTO assembly_pending (message) SELECT id FROM messages WHERE for_assembly = 1;
"#,
        backfill: Some(super::scope::backfill_keys),
    },
    Migration {
        version: 5,
        name: "relation keys kept with each message",
        sql: r#"
-- The hashed relation keys of an assembly mail, 8 bytes each (little
-- endian), written with the row: taking pending mail for assembly then
-- indexes them without decoding the mail's summary. NULL for rows stored
-- before, whose keys come from the summary as before.
ALTER TABLE messages ADD COLUMN relation_keys BLOB;
"#,
        backfill: None,
    },
    Migration {
        version: 6,
        name: "relation keys of unthreaded posts carry their hour",
        sql: r#"
-- The marker key of an unthreaded numbered post now names the hour it was
-- sent in: keys computed before would connect all of an author's cover
-- letters and miss nothing, but keys of both kinds would not meet. Every
-- key is computed again from the stored summaries.
DELETE FROM assembly_keys;
UPDATE messages SET relation_keys = NULL WHERE relation_keys IS NOT NULL;
"#,
        backfill: Some(super::scope::backfill_keys),
    },
    Migration {
        version: 7,
        name: "jobs wait before a retry",
        sql: r#"
-- A job that failed for a reason of the machine's (git, the sandbox) is
-- queued again, not before this time (Unix seconds): a back-off, so a
-- broken mirror is not hammered.
ALTER TABLE jobs ADD COLUMN not_before INTEGER;
"#,
        backfill: None,
    },
];

/// The newest schema version this code knows.
pub const LATEST: i64 = 7;

/// The version a database is at: the highest recorded migration, 0 for a
/// database patchgate has never touched.
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(0);
    }
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )
}

/// Bring the database up to [`LATEST`]; refuse one that is newer.
pub fn migrate(conn: &mut Connection, path: &str) -> Result<()> {
    let db = |source: rusqlite::Error| super::db_error("reading the schema version", source);
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
         )",
    )
    .map_err(db)?;
    let current = version(conn).map_err(db)?;
    if current > LATEST {
        return Err(Error::SchemaTooNew {
            path: path.to_string(),
            found: current,
            known: LATEST,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        apply(conn, m)?;
    }
    Ok(())
}

fn apply(conn: &mut Connection, m: &Migration) -> Result<()> {
    let fail = |current: i64, source: rusqlite::Error| Error::Migration {
        version: m.version,
        name: m.name,
        current,
        source: Box::new(source),
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| fail(m.version - 1, e))?;
    // Another process may have applied it while this one waited for the lock.
    let current = version(&tx).map_err(|e| fail(m.version - 1, e))?;
    if current >= m.version {
        return Ok(());
    }
    tx.execute_batch(m.sql).map_err(|e| fail(current, e))?;
    if let Some(backfill) = m.backfill {
        backfill(&tx).map_err(|e| fail(current, e))?;
    }
    tx.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
        rusqlite::params![m.version, m.name],
    )
    .map_err(|e| fail(current, e))?;
    tx.commit().map_err(|e| fail(current, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_up_to_latest() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "migration {}", m.name);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(LATEST));
    }
}
