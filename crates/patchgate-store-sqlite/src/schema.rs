//! The SQLite schema and its numbered migrations.
//!
//! Each migration runs in its own `BEGIN IMMEDIATE` transaction together
//! with the row that records it in `schema_migrations`, so a database is
//! always at exactly one version, and two processes opening a fresh file at
//! once cannot both apply the same step (the second sees the first's row).
//! Migrations are append-only: never edit one that has shipped, add the next.
//! Each one's SQL is a file under `migrations/`, numbered by its version.
//!
//! DML elsewhere sticks to SQL that PostgreSQL also speaks (`ON CONFLICT`,
//! `RETURNING`); the DDL here is SQLite's own.

use patchgate_store::{Error, Result};
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
        sql: include_str!("../migrations/0001_messages_series_topics_events_cursors.sql"),
        backfill: None,
    },
    Migration {
        version: 2,
        name: "jobs, runs, verdicts",
        sql: include_str!("../migrations/0002_jobs_runs_verdicts.sql"),
        backfill: None,
    },
    Migration {
        version: 3,
        name: "runs keep how they ended and what was parsed",
        sql: include_str!("../migrations/0003_runs_keep_how_they_ended_and_what_was_parsed.sql"),
        backfill: None,
    },
    Migration {
        version: 4,
        name: "relation keys and pending marks for scoped assembly",
        sql: include_str!(
            "../migrations/0004_relation_keys_and_pending_marks_for_scoped_assem.sql"
        ),
        backfill: Some(super::scope::backfill_keys),
    },
    Migration {
        version: 5,
        name: "relation keys kept with each message",
        sql: include_str!("../migrations/0005_relation_keys_kept_with_each_message.sql"),
        backfill: None,
    },
    Migration {
        version: 6,
        name: "relation keys of unthreaded posts carry their hour",
        sql: include_str!(
            "../migrations/0006_relation_keys_of_unthreaded_posts_carry_their_ho.sql"
        ),
        backfill: Some(super::scope::backfill_keys),
    },
    Migration {
        version: 7,
        name: "jobs wait before a retry",
        sql: include_str!("../migrations/0007_jobs_wait_before_a_retry.sql"),
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
    // The common case, a database already at this version, is one read: no
    // write, no lock taken, whichever thread opens it.
    if version(conn).map_err(db)? == LATEST {
        return Ok(());
    }
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
