//! The `git` command, typed: bare mirrors of the trees patchgate guards,
//! detached worktrees per job, applying a series with `git am -3` (a patch
//! that does not apply is a value, not an error), patch ids, and reading
//! public-inbox v2 archives.
//!
//! This crate and the sandbox are the only places patchgate starts
//! processes. Every git runs with a cleared environment and no user
//! configuration (see [`GitEnv`]), never prompts, and reports failures as
//! [`GitError`]s naming the repository, the command and git's stderr.
//!
//! It knows nothing of mail parsing, series or the store: callers hand it
//! bytes and commit ids and get bytes and commit ids back.

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

mod command;
mod error;
mod inbox;
mod mirror;
mod oid;
mod patch_id;
mod worktree;

pub use command::GitEnv;
pub use error::{GitError, Result};
pub use inbox::{InboxCursor, InboxMessage, InboxMessages, PublicInbox};
pub use mirror::Mirror;
pub use oid::{BadOid, Oid};
pub use patch_id::patch_id_stable;
pub use worktree::{AmFailure, AmOptions, AmOutcome, Applied, AppliedPatch, Worktree};
