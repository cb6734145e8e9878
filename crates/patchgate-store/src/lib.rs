//! The store: every stage of patchgate reads its input from here and writes
//! its output here, so each stage is restartable and idempotent.
//!
//! [`Store`] is the port; `patchgate-store-sqlite` the embedded backend (one
//! file, WAL mode, one connection per thread). A PostgreSQL backend
//! implements the same trait in a crate of its own, so the trait names no
//! backend type: values in, values out, errors as [`Error`]. The
//! conformance suite (`testkit`, behind the feature of that name) runs
//! against any backend that can open a fresh database.
//!
//! What the store owns:
//! - messages: raw bytes verbatim, keyed by Message-ID, plus the summary
//!   columns listing and assembly need ([`records`]);
//! - series and topics with stable integer ids, reconciled from each fresh
//!   [`patchgate_series::Assembly`] of the part of the archive new mails
//!   touch ([`Store::assembly_closure`], [`Store::apply_assembly_scoped`]); what a
//!   reconcile writes is decided by [`patchgate_lifecycle::plan()`], the
//!   backend only loads its view and persists the plan;
//! - the append-only event log, from which a series' state is derived
//!   ([`event::state_from_events`]);
//! - source cursors, jobs with leases and fencing tokens, runs keyed by
//!   (commit, suite fingerprint), and verdicts ([`work`]).
//!
//! Invariant: the store never reads the clock; every time comes in as a
//! `now`/`at` argument in Unix seconds.

mod error;
pub mod event;
pub mod records;
pub mod reference;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod work;

pub use error::{Error, Result};
pub use event::{state_from_events, Event, EventKind, EventRecord, State};
pub use records::{
    AssemblyChanges, CoverRecord, InsertStats, MessageSummary, NewMessage, PatchRecord,
    SeriesDetail, SeriesFilter, SeriesRecord, UnusableMessage,
};
pub use reference::Reference;
pub use work::{
    Enqueued, JobFilter, JobRecord, JobStatus, NewJob, Recorded, Recording, Run, RunRecord,
    TestOutcome, VerdictRecord,
};

use patchgate_series::{Assembly, Mail};
use serde_json::Value;

/// The store port. Synchronous: the binary and the workers call it from
/// their own threads, each thread with its own `Store` (for SQLite: its own
/// connection to the same file).
///
/// Reads take `&self`; a backend whose client needs `&mut` for queries keeps
/// it behind interior mutability. Every write method is one transaction:
/// it either happens whole or not at all.
pub trait Store: Send {
    // ---- messages -------------------------------------------------------

    /// Store a batch of parsed messages in one transaction, and when `cursor`
    /// is `Some((source_key, value))`, advance that source cursor in the same
    /// transaction, so a crash never records a cursor past unstored mail.
    ///
    /// A Message-ID already stored (or repeated within the batch) is a
    /// duplicate: the first bytes stored win and are never replaced.
    fn insert_messages_with_cursor(
        &mut self,
        batch: &[NewMessage<'_>],
        cursor: Option<(&str, &str)>,
    ) -> Result<InsertStats>;

    /// [`Store::insert_messages_with_cursor`] without a cursor.
    fn insert_messages(&mut self, batch: &[NewMessage<'_>]) -> Result<InsertStats> {
        self.insert_messages_with_cursor(batch, None)
    }

    /// The bytes of a message exactly as they were read.
    fn raw_message(&self, message_id: &str) -> Result<Option<Vec<u8>>>;
    /// The stored summary of one message.
    fn message_summary(&self, message_id: &str) -> Result<Option<MessageSummary>>;
    fn count_messages(&self) -> Result<u64>;
    /// Messages kept with a reason: unreadable, or with problems.
    fn unusable_messages(&self) -> Result<Vec<UnusableMessage>>;
    /// The summaries series assembly needs: patches, cover letters, and
    /// replies that carry trailers. In insertion order.
    fn assembly_mails(&self) -> Result<Vec<Mail>>;
    /// Message-IDs of up to `limit` assembly mails stored but not yet
    /// covered by a reconcile, oldest first, with their relation keys
    /// indexed now so that [`Store::assembly_closure`] can reach them. A mail
    /// is marked in the transaction that stores it and cleared by the
    /// reconcile that covers it ([`Store::apply_assembly_scoped`]), so a
    /// crash in between leaves it marked for the next ingest. Keys are
    /// indexed here, a chunk at a time in key order, rather than as each
    /// mail is stored: inserting hashed keys in arrival order touches most
    /// of the index on every batch.
    fn pending_assembly(&mut self, limit: usize) -> Result<Vec<String>>;
    /// The seeds (Message-IDs of assembly mails) and every assembly mail
    /// connected to them: sharing, directly or through other mails, a
    /// relation key ([`patchgate_series::relation_keys`]). Assembling the
    /// answer gives, for the series it holds, what assembling every stored
    /// mail would. Seeds that are not assembly mails are ignored.
    fn assembly_closure(&self, seeds: &[String]) -> Result<Vec<Mail>>;

    /// Another handle on the same store, for another thread or a request
    /// of a server: the port is shared by handing out handles, each used by
    /// one thread at a time (`Send`).
    fn another(&self) -> Result<Box<dyn Store>>;

    // ---- source cursors -------------------------------------------------

    fn cursor(&self, source_key: &str) -> Result<Option<String>>;
    fn set_cursor(&mut self, source_key: &str, value: &str) -> Result<()>;

    // ---- series and topics ----------------------------------------------

    /// Reconcile with an assembly of part of the archive: `scope` lists the
    /// Message-IDs of every mail it was assembled from, which must be whole
    /// connected parts (an [`Store::assembly_closure`]). Only stored series
    /// and topics holding a mail of the scope or a member of the assembly
    /// are reconciled; series elsewhere are never taken for "no longer
    /// produced". Clears the scope's pending marks in the same transaction.
    fn apply_assembly_scoped(
        &mut self,
        assembly: &Assembly,
        scope: &[String],
        at: i64,
    ) -> Result<AssemblyChanges>;
    /// Live series (not merged into another).
    fn count_series(&self) -> Result<u64>;
    /// Live series (not merged into another), newest first.
    fn list_series(&self, filter: &SeriesFilter) -> Result<Vec<SeriesRecord>>;
    /// One series by id, also one merged away (see [`SeriesRecord::merged_into`]).
    fn get_series(&self, id: i64) -> Result<Option<SeriesRecord>>;
    /// Resolve what a user typed to a live series id: an integer id; the
    /// Message-ID (with or without `<>`) of its cover letter, of any of its
    /// patches or of any stored reply in their threads, or a link to one
    /// (`https://lore.kernel.org/r/<id>`); `topic:N` or `topic:<key>` for
    /// the newest revision of a topic. The grammar is [`Reference::parse`];
    /// a backend only looks the parsed reference up.
    fn find_series(&self, reference: &str) -> Result<Option<i64>>;
    /// The patches of a series, by index, with their own and collected trailers.
    fn series_patches(&self, id: i64) -> Result<Vec<PatchRecord>>;
    /// What `series show --json` prints: the record, its cover letter, its patches.
    fn series_detail(&self, id: i64) -> Result<Option<SeriesDetail>>;
    /// The revisions of a topic, oldest first.
    fn topic_series(&self, topic_id: i64) -> Result<Vec<SeriesRecord>>;

    // ---- events -----------------------------------------------------------

    /// Append to a series' history and update its derived state. Returns the
    /// event id.
    fn append_event(&mut self, series_id: i64, event: &Event) -> Result<i64>;
    /// A series' history, oldest first.
    fn events(&self, series_id: i64) -> Result<Vec<EventRecord>>;

    // ---- jobs ---------------------------------------------------------------

    /// Queue a job unless one with the same dedupe key exists (queued,
    /// running or finished): then return that one's id.
    fn enqueue_job(&mut self, job: &NewJob, now: i64) -> Result<Enqueued>;
    /// Hand the oldest claimable job to `worker`: a queued one, or a running
    /// one whose lease expired (its worker is presumed dead). Bumps the
    /// attempt count and the fencing token. No job is ever handed to two
    /// workers at once. A job whose lease expired with no attempts left is
    /// marked failed instead.
    fn claim_job(&mut self, worker: &str, lease_secs: i64, now: i64) -> Result<Option<JobRecord>>;
    /// Extend the lease of a claimed job; fails with [`Error::LeaseLost`]
    /// when `token` is no longer current (the worker must stop).
    fn heartbeat(&mut self, job_id: i64, token: i64, now: i64) -> Result<()>;
    /// Record a job's outcome, exactly once: only the holder of the current
    /// token can, every other call fails with [`Error::LeaseLost`].
    fn finish_job(&mut self, job_id: i64, token: i64, outcome: &Value, now: i64) -> Result<()>;
    /// Give a claimed job back after a failure that is not the job's own
    /// answer (git or the sandbox failed): queued again not before
    /// `retry_at` while attempts remain, else (or with `None`) failed with
    /// `error` as its outcome. Only the current token holder may.
    /// [`Store::finish_job`] and, in the same transaction, the test's
    /// [`Recording`]: a crash in between cannot leave the job done without
    /// its verdict, or the series stranded in `testing`. Nothing is
    /// written when `token` is no longer current.
    fn finish_job_recording(
        &mut self,
        job_id: i64,
        token: i64,
        outcome: &Value,
        recording: Option<&Recording>,
        now: i64,
    ) -> Result<()>;
    /// A verdict and its events in one transaction (a test run outside a
    /// job: `patchgate test`).
    fn record(&mut self, recording: &Recording) -> Result<()>;
    fn give_back_job(
        &mut self,
        job_id: i64,
        token: i64,
        error: &Value,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<JobStatus>;
    fn jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>>;

    // ---- runs and verdicts ----------------------------------------------

    /// Store a run; the same (commit, fingerprint, attempt) stored twice is
    /// kept once and the existing id returned.
    fn record_run(&mut self, run: &Run) -> Result<Recorded>;
    /// Every attempt of a suite on a commit, by attempt.
    fn runs_for(&self, commit: &str, fingerprint: &str) -> Result<Vec<RunRecord>>;
    /// How one test of one suite has fared over all stored runs.
    /// Every stored result of one test of one suite, `(commit, status)`, in
    /// the order the runs started: what the gate's flake statistics are
    /// folded from (`patchgate_gate::fold`).
    fn test_results(&self, suite: &str, test: &str) -> Result<Vec<(String, String)>>;
    fn record_verdict(
        &mut self,
        series_id: i64,
        branch: &str,
        verdict: &Value,
        at: i64,
    ) -> Result<i64>;
    /// The newest verdict of a series, for one branch or for any.
    fn latest_verdict(&self, series_id: i64, branch: Option<&str>)
        -> Result<Option<VerdictRecord>>;
}
