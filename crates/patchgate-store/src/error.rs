//! What can go wrong in a store, said so that the reader knows what failed
//! (the step, the Message-ID, the series, the job) and what to do about it.
//!
//! Backend errors are boxed so the trait names no backend type.

use std::path::PathBuf;

/// A backend's own error, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A database statement failed; `step` says which and for what.
    #[error("store: {step}: {source}")]
    Database {
        step: String,
        #[source]
        source: BoxError,
    },

    /// Another process held the database longer than the busy timeout.
    #[error(
        "store: {step}: the database stayed locked for more than {timeout_ms} ms; \
         another patchgate process is probably writing to it, try again when it is done"
    )]
    Busy { step: String, timeout_ms: u64 },

    /// The database could not be opened or created.
    #[error("store: cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: BoxError,
    },

    /// The database was written by a newer patchgate.
    #[error(
        "store: database {path} has schema version {found}, but this patchgate knows \
         only up to version {known}; run a patchgate at least as new as the one that \
         last wrote this database"
    )]
    SchemaTooNew {
        path: String,
        found: i64,
        known: i64,
    },

    /// A schema migration failed; its transaction was rolled back.
    #[error(
        "store: schema migration {version} ({name}) failed and was rolled back, \
         the database stays at version {current}: {source}"
    )]
    Migration {
        version: i64,
        name: &'static str,
        current: i64,
        #[source]
        source: BoxError,
    },

    /// A stored value could not be read back (damaged or hand-edited row).
    #[error("store: stored {what} of {whose} cannot be read: {detail}")]
    Corrupt {
        what: &'static str,
        whose: String,
        detail: String,
    },

    /// Assembly placed one message in two series; assembly partitions mails,
    /// so this is a bug there, and nothing was written.
    #[error(
        "store: assembly put message {message_id} in two series ({first} and {second}); \
         nothing was written. This is a bug in series assembly, please report it"
    )]
    AssemblyConflict {
        message_id: String,
        first: String,
        second: String,
    },

    /// No series with this id.
    #[error("store: no series {0}; `patchgate series list` shows the ids there are")]
    NoSuchSeries(i64),

    /// No job with this id.
    #[error("store: no job {0}")]
    NoSuchJob(i64),

    /// The worker's claim on a job is no longer current: its lease expired
    /// and another worker took the job over, or the job is finished.
    #[error(
        "store: job {job}: lease token {token} is no longer current ({why}); \
         this worker must stop working on it, its result is not recorded"
    )]
    LeaseLost { job: i64, token: i64, why: String },

    /// A value given to the store cannot be stored as asked.
    #[error("store: {0}")]
    Invalid(String),
}
