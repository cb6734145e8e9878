//! What can go wrong when preparing or running a confined command. Every
//! variant names the thing that failed and, where there is one, what the
//! operator can do about it.

use std::io;
use std::path::PathBuf;

/// Why the sandbox could not be set up or a run could not be carried out.
///
/// A suite that fails, crashes or hits a limit is not an error: that is an
/// [`Outcome`](crate::Outcome). An error means the suite did not run, or its
/// result cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// bwrap is missing or does not work, and the configuration does not
    /// allow running suites without it.
    #[error(
        "refusing to run a suite unconfined: {reason}; install bubblewrap \
         (scripts/setup does) or set allow_unconfined in the sandbox configuration"
    )]
    Unconfined { reason: String },

    /// The spec asks for something that cannot be run.
    #[error("invalid sandbox spec: {reason}")]
    InvalidSpec { reason: String },

    /// The worktree to run in is missing or not a directory.
    #[error("worktree {path} cannot be used: {source}")]
    Workdir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The folder to run in is not inside the worktree (a symlink leads out
    /// of it, or it is missing): the tree's doing, not the host's.
    #[error("the suite's folder cannot be used: {0}")]
    Path(#[from] crate::inside::Refused),

    /// A per-run cgroup could not be created, configured or joined even
    /// though the probe at start-up found the controller writable.
    #[error(
        "cgroup {path}: {action} failed: {source}; check that the cgroup v1 \
         hierarchy is mounted writable, or restart to probe again"
    )]
    Cgroup {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: io::Error,
    },

    /// The run was stopped from outside (its cancel flag was set); its tree
    /// was killed and its result is not a result.
    #[error("the run was cancelled (interrupted) and its processes killed")]
    Cancelled,

    /// The process could not be started.
    #[error("starting {program} failed: {source}")]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },

    /// An operating-system resource the run needs (pipe, thread) could not be
    /// had; usually the host is out of descriptors or memory.
    #[error("{what} failed: {source}")]
    Resource {
        what: &'static str,
        #[source]
        source: io::Error,
    },
}
