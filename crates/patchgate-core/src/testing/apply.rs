//! Choosing the base a series is applied to, and applying it with `git am -3`.
//!
//! The order: the series' own `base-commit:` when the mirror has it; else
//! each configured base branch at its head; and when the series does not
//! apply there but was posted before that head was committed (an archive
//! being replayed), the branch as it stood at the posting's date. The first
//! base that takes the series wins, and the report says which and why. A
//! series that applies nowhere is a verdict, not an error: the failure on the
//! first base tried is reported, with the patch, the files and git's words.

use patchgate_git::{AmOptions, AmOutcome, Mirror, Oid, Worktree};
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::TestError;

/// Where a series went on, and why there.
#[derive(Debug)]
pub struct Applied {
    pub base: Oid,
    pub reason: String,
    pub head: Oid,
    pub worktree: Worktree,
}

/// Why a series applied nowhere: what `git am -3` said on the first base.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyFailure {
    /// The base it was tried on first.
    pub base: String,
    /// Why that base.
    pub base_reason: String,
    /// 1-based index of the patch that failed.
    pub patch: usize,
    pub subject: String,
    /// Files with conflicts.
    pub files: Vec<String>,
    /// git's message.
    pub message: String,
}

impl ApplyFailure {
    /// One sentence a submitter can act on; git's full words stay in
    /// `message`.
    pub fn explain(&self) -> String {
        let what = if self.files.is_empty() {
            // Without a conflict list, git's own error line says most.
            self.message
                .lines()
                .find(|l| l.starts_with("error:"))
                .map(|l| l.trim_start_matches("error:").trim().to_string())
                .unwrap_or_else(|| "git am failed".into())
        } else {
            format!("conflicts in {}", self.files.join(", "))
        };
        format!(
            "patch {} \"{}\" does not apply to {} ({}): {what}",
            self.patch,
            self.subject,
            short(&self.base),
            self.base_reason,
        )
    }
}

/// Either the series applied, or why it did not.
#[derive(Debug)]
pub enum Applying {
    Applied(Applied),
    Failed(ApplyFailure),
}

static WORKTREES: AtomicU64 = AtomicU64::new(0);

/// A fresh folder under `jobs` for one worktree: unique within this
/// process (counter) and among processes on the machine (pid).
pub fn worktree_dir(jobs: &Path, label: &str) -> std::path::PathBuf {
    let n = WORKTREES.fetch_add(1, Ordering::Relaxed);
    jobs.join(format!("{label}-{}-{n}", std::process::id()))
}

/// Whether a worktree folder made by [`worktree_dir`] may still be in use:
/// the process that made it is alive. Folders of dead processes are left
/// from a crash, and the next start removes them.
pub fn in_use(dir: &Path) -> bool {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut parts = name.rsplit('-');
    let _counter = parts.next();
    match parts.next().and_then(|pid| pid.parse::<u32>().ok()) {
        Some(pid) => Path::new("/proc").join(pid.to_string()).exists(),
        // Not one of ours: never touch it.
        None => true,
    }
}

/// What to try, in order.
pub struct Candidates<'a> {
    pub base_commit: Option<&'a str>,
    pub branches: &'a [String],
    /// The series' posting date (Unix seconds).
    pub posted: Option<i64>,
}

/// Apply `mbox` on the first base that takes it.
pub fn apply(
    mirror: &Mirror,
    jobs: &Path,
    label: &str,
    mbox: &[u8],
    options: &AmOptions,
    candidates: &Candidates<'_>,
) -> Result<Applying, TestError> {
    let mut first_failure: Option<ApplyFailure> = None;
    let mut tried: Vec<Oid> = Vec::new();
    let mut attempt = |oid: Oid, reason: String| -> Result<Option<Applied>, TestError> {
        if tried.contains(&oid) {
            return Ok(None);
        }
        tried.push(oid.clone());
        let worktree = mirror.add_worktree(worktree_dir(jobs, label), &oid)?;
        match worktree.am(mbox, options)? {
            AmOutcome::Applied(a) => {
                let head = a.commits.last().cloned().unwrap_or_else(|| oid.clone());
                Ok(Some(Applied {
                    base: oid,
                    reason,
                    head,
                    worktree,
                }))
            }
            AmOutcome::Failed(f) => {
                if first_failure.is_none() {
                    first_failure = Some(ApplyFailure {
                        base: oid.to_string(),
                        base_reason: reason,
                        patch: f.index,
                        subject: f.subject,
                        files: f.files,
                        message: f.message,
                    });
                }
                Ok(None)
            }
        }
    };

    let mut notes = Vec::new();
    if let Some(named) = candidates.base_commit {
        match mirror.resolve(named)? {
            // `resolve` answers only for a commit the mirror has.
            Some(oid) => {
                if let Some(a) = attempt(oid, format!("base-commit {named} named by the series"))? {
                    return Ok(Applying::Applied(a));
                }
            }
            _ => notes.push(format!("its base-commit {named} is not in the tree")),
        }
    }
    let suffix = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    for branch in candidates.branches {
        let Some(head) = mirror.branch_head(branch)? else {
            continue;
        };
        let head_date = mirror.commit_date(&head)?;
        if let Some(a) = attempt(head.clone(), format!("head of {branch}{suffix}"))? {
            return Ok(Applying::Applied(a));
        }
        // An archive replayed later: the branch has moved on since the
        // posting, so try it as it stood when the series was posted.
        if let Some(posted) = candidates.posted.filter(|p| *p < head_date) {
            if let Some(then) = mirror.branch_at(branch, posted)? {
                let reason = format!("{branch} as it stood when the series was posted{suffix}");
                if let Some(a) = attempt(then, reason)? {
                    return Ok(Applying::Applied(a));
                }
            }
        }
    }
    match first_failure {
        Some(f) => Ok(Applying::Failed(f)),
        None => Err(TestError::NoBase {
            branches: candidates.branches.join(", "),
        }),
    }
}

/// The first 12 digits of a commit id, for prose.
pub fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
