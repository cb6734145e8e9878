//! The embedded backend: one SQLite file in WAL mode.
//!
//! One [`SqliteStore`] is one connection; threads that work in parallel
//! (workers) each open their own on the same file. WAL lets readers run
//! beside the one writer; writers queue on the busy timeout, and every
//! write starts with `BEGIN IMMEDIATE` so it takes the write lock up front
//! instead of failing half-way when a reader wants to upgrade.
//!
//! The WAL is checkpointed every 1000 pages (SQLite's default, 32 MiB at
//! our page size) and truncated back to 64 MiB after a checkpoint; a store
//! that writes mail checkpoints each batch of messages on a thread of its
//! own (`checkpoint`).
//!
//! `synchronous=NORMAL` in WAL mode can lose the last transactions on power
//! loss but never corrupts the file; every stage is idempotent, so lost
//! work is redone on the next run.

mod checkpoint;
mod events;
mod jobs;
mod messages;
mod reconcile;
mod runs;
pub(crate) mod schema;
mod scope;
mod series;

use patchgate_series::{Assembly, Mail};
use patchgate_store::event::{Event, EventRecord};
use patchgate_store::Store;
use patchgate_store::{
    AssemblyChanges, InsertStats, MessageSummary, NewMessage, PatchRecord, SeriesDetail,
    SeriesFilter, SeriesRecord, UnusableMessage,
};
use patchgate_store::{
    Enqueued, JobFilter, JobRecord, NewJob, Recorded, Run, RunRecord, VerdictRecord,
};
use patchgate_store::{Error, Result};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use serde_json::Value;
use std::path::Path;

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT_MS: u64 = 10_000;

/// The SQLite store. See the module documentation.
pub struct SqliteStore {
    /// Declared before `conn`, so it stops before the connection closes.
    checkpointer: Option<checkpoint::Checkpointer>,
    /// Whether to start the checkpointer at the first batch of messages:
    /// a file database that has not started it yet.
    checkpoint_later: bool,
    conn: Connection,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.conn.path())
            .finish()
    }
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path` and bring its schema
    /// up to date. Fails with [`Error::SchemaTooNew`] for a database written
    /// by a newer patchgate.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref();
        let open_err = |source: rusqlite::Error| Error::Open {
            path: path.to_path_buf(),
            source: Box::new(source),
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        let mut store = Self::setup(conn, &path.display().to_string())?;
        store.checkpoint_later = true;
        Ok(store)
    }

    /// A private database in memory, for tests.
    pub fn open_in_memory() -> Result<SqliteStore> {
        let conn = Connection::open_in_memory().map_err(|source| Error::Open {
            path: ":memory:".into(),
            source: Box::new(source),
        })?;
        Self::setup(conn, ":memory:")
    }

    fn setup(mut conn: Connection, path: &str) -> Result<SqliteStore> {
        conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
            .map_err(|e| db_error("setting the busy timeout", e))?;
        // Mail is stored whole: 32 KiB pages hold several 5 KB messages
        // each instead of spilling every one into an overflow chain, which
        // halves the CPU cost of an insert (measured by the benchmark in
        // tests/sqlite.rs). Only a new, empty database takes the setting.
        conn.execute_batch("PRAGMA page_size = 32768")
            .map_err(|e| db_error("setting the page size", e))?;
        // journal_mode answers with the mode it set; a database in memory
        // stays in "memory" mode, which is fine for tests.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(|e| db_error("switching to WAL mode", e))?;
        if mode != "wal" && path != ":memory:" {
            return Err(Error::Invalid(format!(
                "database {path}: cannot switch to WAL mode (the file system answered \
                 journal_mode={mode}); keep the state directory on a local file system"
            )));
        }
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -32000;
             PRAGMA journal_size_limit = 67108864;",
        )
        .map_err(|e| db_error("setting connection pragmas", e))?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut conn, path)?;
        Ok(SqliteStore {
            checkpointer: None,
            checkpoint_later: false,
            conn,
        })
    }

    /// Run `write`, one of the writes an ingest makes, with the
    /// checkpointer when there is one: the checkpoint of the write before
    /// is over when it begins, and its own starts when it ends.
    fn checkpointed<T>(&mut self, write: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        if let Some(c) = &mut self.checkpointer {
            c.wait();
        }
        let out = write(&mut self.conn)?;
        if let Some(c) = &mut self.checkpointer {
            c.committed();
        }
        Ok(out)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        schema::version(&self.conn).map_err(|e| db_error("reading the schema version", e))
    }

    /// The newest schema version this code knows.
    pub const LATEST_SCHEMA: i64 = schema::LATEST;
}

/// Wrap a SQLite error with the step that failed; a lock held past the
/// busy timeout gets its own error, because the fix is to wait.
pub(crate) fn db_error(step: impl Into<String>, source: rusqlite::Error) -> Error {
    let step = step.into();
    if let rusqlite::Error::SqliteFailure(e, _) = &source {
        if matches!(
            e.code,
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
        ) {
            return Error::Busy {
                step,
                timeout_ms: BUSY_TIMEOUT_MS,
            };
        }
    }
    Error::Database {
        step,
        source: Box::new(source),
    }
}

/// `.step(|| "what")` on a rusqlite result: the error says what was being
/// done. The closure runs only on failure, keeping hot paths free of it.
pub(crate) trait Step<T> {
    fn step<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T>;
}

impl<T> Step<T> for rusqlite::Result<T> {
    fn step<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| db_error(what(), e))
    }
}

/// Begin a write transaction that holds the write lock from its start.
pub(crate) fn write_tx<'c>(conn: &'c mut Connection, what: &str) -> Result<Transaction<'c>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .step(|| format!("starting a transaction for {what}"))
}

/// Parse a JSON column, naming the row when it is damaged.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &'static str,
    whose: impl FnOnce() -> String,
) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Corrupt {
        what,
        whose: whose(),
        detail: e.to_string(),
    })
}

/// Serialise a value for a JSON column. The values stored are plain data
/// (strings, numbers, vectors), for which serde_json cannot fail; the error
/// is mapped anyway rather than unwrapped.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T, what: &str) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::Invalid(format!("cannot encode {what} as JSON: {e}")))
}

impl Store for SqliteStore {
    fn insert_messages_with_cursor(
        &mut self,
        batch: &[NewMessage<'_>],
        cursor: Option<(&str, &str)>,
    ) -> Result<InsertStats> {
        // Only a connection that writes mail writes enough for its
        // checkpoints to matter; the others keep SQLite's own.
        if std::mem::take(&mut self.checkpoint_later) {
            if let Some(path) = self.conn.path().map(std::path::PathBuf::from) {
                self.checkpointer = checkpoint::Checkpointer::start(&path);
            }
        }
        self.checkpointed(|conn| messages::insert(conn, batch, cursor))
    }

    fn raw_message(&self, message_id: &str) -> Result<Option<Vec<u8>>> {
        messages::raw(&self.conn, message_id)
    }

    fn message_summary(&self, message_id: &str) -> Result<Option<MessageSummary>> {
        messages::summary(&self.conn, message_id)
    }

    fn count_messages(&self) -> Result<u64> {
        messages::count(&self.conn)
    }

    fn unusable_messages(&self) -> Result<Vec<UnusableMessage>> {
        messages::unusable(&self.conn)
    }

    fn assembly_mails(&self) -> Result<Vec<Mail>> {
        messages::assembly_mails(&self.conn)
    }

    fn cursor(&self, source_key: &str) -> Result<Option<String>> {
        messages::cursor(&self.conn, source_key)
    }

    fn set_cursor(&mut self, source_key: &str, value: &str) -> Result<()> {
        let tx = write_tx(&mut self.conn, "a source cursor")?;
        messages::set_cursor(&tx, source_key, value)?;
        tx.commit()
            .step(|| format!("committing cursor {source_key}"))
    }

    fn pending_assembly(&mut self, limit: usize) -> Result<Vec<String>> {
        self.checkpointed(|conn| scope::take_pending(conn, limit))
    }

    fn assembly_closure(&self, seeds: &[String]) -> Result<Vec<Mail>> {
        scope::closure(&self.conn, seeds)
    }

    fn another(&self) -> Result<Box<dyn Store>> {
        match self.conn.path().filter(|p| !p.is_empty()) {
            Some(path) => Ok(Box::new(SqliteStore::open(path)?)),
            None => Err(Error::Invalid(
                "a database in memory has no second handle; open a file".into(),
            )),
        }
    }

    fn apply_assembly_scoped(
        &mut self,
        assembly: &Assembly,
        scope: &[String],
        at: i64,
    ) -> Result<AssemblyChanges> {
        self.checkpointed(|conn| reconcile::apply(conn, assembly, scope, at))
    }

    fn count_series(&self) -> Result<u64> {
        scope::count_series(&self.conn)
    }

    fn list_series(&self, filter: &SeriesFilter) -> Result<Vec<SeriesRecord>> {
        series::list(&self.conn, filter)
    }

    fn get_series(&self, id: i64) -> Result<Option<SeriesRecord>> {
        series::get(&self.conn, id)
    }

    fn find_series(&self, reference: &str) -> Result<Option<i64>> {
        series::find(&self.conn, reference)
    }

    fn series_patches(&self, id: i64) -> Result<Vec<PatchRecord>> {
        series::patches(&self.conn, id)
    }

    fn series_detail(&self, id: i64) -> Result<Option<SeriesDetail>> {
        series::detail(&self.conn, id)
    }

    fn topic_series(&self, topic_id: i64) -> Result<Vec<SeriesRecord>> {
        series::of_topic(&self.conn, topic_id)
    }

    fn append_event(&mut self, series_id: i64, event: &Event) -> Result<i64> {
        let tx = write_tx(&mut self.conn, "an event")?;
        let id = events::append(&tx, series_id, event)?;
        tx.commit()
            .step(|| format!("committing event for series {series_id}"))?;
        Ok(id)
    }

    fn events(&self, series_id: i64) -> Result<Vec<EventRecord>> {
        events::list(&self.conn, series_id)
    }

    fn enqueue_job(&mut self, job: &NewJob, now: i64) -> Result<Enqueued> {
        jobs::enqueue(&mut self.conn, job, now)
    }

    fn claim_job(&mut self, worker: &str, lease_secs: i64, now: i64) -> Result<Option<JobRecord>> {
        jobs::claim(&mut self.conn, worker, lease_secs, now)
    }

    fn heartbeat(&mut self, job_id: i64, token: i64, now: i64) -> Result<()> {
        jobs::heartbeat(&mut self.conn, job_id, token, now)
    }

    fn finish_job(&mut self, job_id: i64, token: i64, outcome: &Value, now: i64) -> Result<()> {
        jobs::finish(&mut self.conn, job_id, token, outcome, now)
    }

    fn finish_job_recording(
        &mut self,
        job_id: i64,
        token: i64,
        outcome: &Value,
        recording: Option<&patchgate_store::Recording>,
        now: i64,
    ) -> Result<()> {
        jobs::finish_recording(&mut self.conn, job_id, token, outcome, recording, now)
    }

    fn record(&mut self, recording: &patchgate_store::Recording) -> Result<()> {
        runs::record_outcome(&mut self.conn, recording)
    }

    fn give_back_job(
        &mut self,
        job_id: i64,
        token: i64,
        error: &Value,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<patchgate_store::JobStatus> {
        jobs::give_back(&mut self.conn, job_id, token, error, retry_at, now)
    }

    fn jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>> {
        jobs::list(&self.conn, filter)
    }

    fn record_run(&mut self, run: &Run) -> Result<Recorded> {
        runs::record(&mut self.conn, run)
    }

    fn runs_for(&self, commit: &str, fingerprint: &str) -> Result<Vec<RunRecord>> {
        runs::runs_for(&self.conn, commit, fingerprint)
    }

    fn test_results(&self, suite: &str, test: &str) -> Result<Vec<(String, String)>> {
        runs::test_results(&self.conn, suite, test)
    }

    fn record_verdict(
        &mut self,
        series_id: i64,
        branch: &str,
        verdict: &Value,
        at: i64,
    ) -> Result<i64> {
        runs::record_verdict(&mut self.conn, series_id, branch, verdict, at)
    }

    fn latest_verdict(
        &self,
        series_id: i64,
        branch: Option<&str>,
    ) -> Result<Option<VerdictRecord>> {
        runs::latest_verdict(&self.conn, series_id, branch)
    }
}
