//! The one error type of this crate.
//!
//! Every variant names the repository (or directory) it happened in and, when
//! git itself was run, the command line and what git wrote on stderr: the
//! binary adds its own context once, so these messages must already say what
//! failed and where.

use std::path::PathBuf;

/// A failure to run git or to read what it produced.
///
/// A patch that does not apply is *not* a `GitError`: [`crate::Worktree::am`]
/// returns it as a value, because it is a verdict on the patch, not a fault of
/// the machine.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The `git` program could not be started (not installed, not on `PATH`).
    #[error("could not run `git {args}` in {}: {source}", repo.display())]
    Spawn {
        repo: PathBuf,
        args: String,
        #[source]
        source: std::io::Error,
    },
    /// git ran and exited unsuccessfully.
    #[error("`git {args}` failed in {} ({status}): {stderr}", repo.display())]
    Failed {
        repo: PathBuf,
        args: String,
        status: String,
        stderr: String,
    },
    /// git succeeded but printed something this crate cannot read.
    #[error("`git {args}` in {} printed something unexpected: {detail}", repo.display())]
    Unexpected {
        repo: PathBuf,
        args: String,
        detail: String,
    },
    /// A file or directory this crate manages could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A directory given as a public-inbox archive has no `git/N.git` epochs.
    #[error("{} is not a public-inbox v2 archive: it has no git/N.git epoch repositories", path.display())]
    NotAnInbox { path: PathBuf },
    /// An archive's `git/N.git` is not a git repository.
    #[error(
        "{} is not a git repository ({detail}): each git/N.git of a public-inbox v2 archive \
         is a bare repository; clone the epoch there again (git clone --mirror URL/git/N.git) \
         or remove the folder",
        path.display()
    )]
    NotAnEpoch { path: PathBuf, detail: String },
    /// A revision argument that git would read as an option.
    #[error("refusing revision {rev:?} in {}: it starts with '-'", repo.display())]
    BadRevision { repo: PathBuf, rev: String },
}

/// Shorthand used throughout the crate.
pub type Result<T, E = GitError> = std::result::Result<T, E>;

pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> GitError {
    let path = path.into();
    move |source| GitError::Io { path, source }
}
