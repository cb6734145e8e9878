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
    /// The series changes nothing on another base it was tried on: it has
    /// landed there already.
    pub already_in: Option<AlreadyApplied>,
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
    /// The files the series changes, when the base has none of them: a
    /// patch for another project that was sent to this list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_for_tree: Vec<String>,
}

impl ApplyFailure {
    /// One sentence a submitter can act on; git's full words stay in
    /// `message`.
    pub fn explain(&self) -> String {
        if !self.not_for_tree.is_empty() {
            let files: Vec<&str> = self
                .not_for_tree
                .iter()
                .take(5)
                .map(String::as_str)
                .collect();
            let more = self.not_for_tree.len().saturating_sub(files.len());
            return format!(
                "not for this tree: the series changes {}{}, which {} ({}) does not have; it was \
                 sent to this list for another project, and nothing here is its fault",
                files.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                },
                short(&self.base),
                self.base_reason,
            );
        }
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

/// Where a series had landed already: every patch changes nothing on the
/// base (git: "No changes -- Patch already applied").
#[derive(Debug, Clone, Serialize)]
pub struct AlreadyApplied {
    pub base: String,
    pub base_reason: String,
    /// The branch whose history has it, when the base was a branch's.
    pub branch: Option<String>,
    /// Each patch's subject and the commit on the branch with that
    /// subject, when one was found.
    pub landed: Vec<Landed>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Landed {
    pub subject: String,
    pub commit: Option<String>,
}

impl AlreadyApplied {
    /// "already in master as abc123def456, 0123456789ab".
    pub fn where_landed(&self) -> String {
        let place = self.branch.as_deref().map_or_else(
            || format!("in {}", short(&self.base)),
            |b| format!("in {b}"),
        );
        let found: Vec<&str> = self
            .landed
            .iter()
            .filter_map(|l| l.commit.as_deref())
            .map(short)
            .collect();
        match found.as_slice() {
            [] => format!("already {place}"),
            many => format!("already {place} as {}", many.join(", ")),
        }
    }

    /// Why nothing was tested: the series is on every base already.
    pub fn explain(&self) -> String {
        format!(
            "the series is {}: every patch changes nothing on {} ({}), so there is nothing to test",
            self.where_landed(),
            short(&self.base),
            self.base_reason
        )
    }
}

/// Either the series applied, or why it did not.
#[derive(Debug)]
pub enum Applying {
    Applied(Applied),
    Failed(ApplyFailure),
    /// Every base that took the series already had all of it.
    AlreadyApplied(AlreadyApplied),
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
    /// Finds the commit whose files have the blobs the patches' `index`
    /// lines name, and the branch it is on; asked only when a base is
    /// wanted beyond the branch heads (it costs two git processes).
    pub guess: &'a dyn Fn() -> Result<Option<(Oid, String)>, TestError>,
    pub branches: &'a [String],
    /// The series' posting date (Unix seconds).
    pub posted: Option<i64>,
    /// Patches to apply first on every base: a series this one was posted
    /// on top of. The series is judged from the commit they lead to.
    pub prelude: Option<Prelude>,
}

/// A prerequisite series, as `git am` takes it.
#[derive(Debug, Clone)]
pub struct Prelude {
    pub mbox: Vec<u8>,
    /// How the report names it: `series 7 "arm: pmu: …" (v2), which …`.
    pub label: String,
}

/// How one base took the series.
enum Attempt {
    /// Every patch as posted, or by a three-way merge.
    Applied(Box<Applied>, bool),
    /// Every patch changed nothing: the base has the series.
    NoOp(Vec<String>),
    Failed,
}

/// Apply `mbox` on the best base that takes it: the first where every
/// patch applies as posted; else the first where `git am -3` had to merge;
/// a base where a patch changes nothing is not one the series applies to.
pub fn apply(
    mirror: &Mirror,
    jobs: &Path,
    label: &str,
    mbox: &[u8],
    options: &AmOptions,
    candidates: &Candidates<'_>,
) -> Result<Applying, TestError> {
    let mut first_failure: Option<ApplyFailure> = None;
    let mut merged: Option<Applied> = None;
    let mut no_op: Option<(Oid, String, Option<String>, Vec<String>)> = None;
    let mut tried: Vec<Oid> = Vec::new();
    let mut attempt = |oid: Oid, reason: String| -> Result<Attempt, TestError> {
        if tried.contains(&oid) {
            return Ok(Attempt::Failed);
        }
        tried.push(oid.clone());
        let worktree = mirror.add_worktree(worktree_dir(jobs, label), &oid)?;
        let mut fail = |f: ApplyFailure| {
            if first_failure.is_none() {
                first_failure = Some(f);
            }
            Ok(Attempt::Failed)
        };
        // The prerequisite first; the series is then judged from its end.
        let (oid, reason) = match &candidates.prelude {
            None => (oid, reason),
            Some(prelude) => match worktree.am(&prelude.mbox, options)? {
                AmOutcome::Applied(a) if a.patches.iter().all(|p| !p.already_applied) => {
                    let on = a.commits.last().cloned().unwrap_or_else(|| oid.clone());
                    (
                        on,
                        format!(
                            "on top of {}, applied to {} ({reason})",
                            prelude.label,
                            short(oid.as_str())
                        ),
                    )
                }
                AmOutcome::Applied(_) => {
                    return fail(ApplyFailure {
                        base: oid.to_string(),
                        base_reason: reason,
                        patch: 0,
                        subject: String::new(),
                        files: vec![],
                        not_for_tree: vec![],
                        message: format!(
                            "error: the prerequisite {} is already (in part) on this base",
                            prelude.label
                        ),
                    })
                }
                AmOutcome::Failed(f) => {
                    return fail(ApplyFailure {
                        base: oid.to_string(),
                        base_reason: reason,
                        patch: 0,
                        subject: f.subject,
                        files: f.files,
                        not_for_tree: vec![],
                        message: format!(
                            "error: the prerequisite {} does not apply here\n{}",
                            prelude.label, f.message
                        ),
                    })
                }
            },
        };
        match worktree.am(mbox, options)? {
            AmOutcome::Applied(a) => {
                let noop: Vec<usize> = a
                    .patches
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.already_applied)
                    .map(|(i, _)| i + 1)
                    .collect();
                if !a.patches.is_empty() && noop.len() == a.patches.len() {
                    let subjects = a.patches.iter().map(|p| p.subject.clone()).collect();
                    return Ok(Attempt::NoOp(subjects));
                }
                if let Some(&n) = noop.first() {
                    // Part of the series is there already: not the base it
                    // was written for, and what is left is not the series.
                    return fail(ApplyFailure {
                        base: oid.to_string(),
                        base_reason: reason,
                        patch: n,
                        subject: a.patches[n - 1].subject.clone(),
                        files: vec![],
                        not_for_tree: vec![],
                        message: format!(
                            "error: patch {n} changes nothing here (git: \"No changes -- Patch already applied\") while the others do: part of the series is on this base already"
                        ),
                    });
                }
                let three_way: Vec<String> = a
                    .patches
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.three_way)
                    .map(|(i, _)| (i + 1).to_string())
                    .collect();
                let head = a.commits.last().cloned().unwrap_or_else(|| oid.clone());
                let reason = if three_way.is_empty() {
                    reason
                } else {
                    let refs: Vec<&str> = three_way.iter().map(String::as_str).collect();
                    format!(
                        "{reason}; patch {} did not apply as posted and went on by a three-way merge",
                        refs.join(", ")
                    )
                };
                Ok(Attempt::Applied(
                    Box::new(Applied {
                        base: oid,
                        reason,
                        head,
                        worktree,
                        already_in: None,
                    }),
                    three_way.is_empty(),
                ))
            }
            AmOutcome::Failed(f) => fail(ApplyFailure {
                base: oid.to_string(),
                base_reason: reason,
                patch: f.index,
                subject: f.subject,
                files: f.files,
                message: f.message,
                not_for_tree: vec![],
            }),
        }
    };
    // Takes one attempt's answer: true when the search is over.
    let mut take = |got: Attempt, oid: &Oid, reason: &str, branch: Option<&str>| -> bool {
        match got {
            Attempt::Applied(a, true) => {
                merged = Some(*a);
                true
            }
            Attempt::Applied(a, false) => {
                merged.get_or_insert(*a);
                false
            }
            Attempt::NoOp(subjects) => {
                if no_op.is_none() {
                    no_op = Some((
                        oid.clone(),
                        reason.to_string(),
                        branch.map(str::to_string),
                        subjects,
                    ));
                }
                false
            }
            Attempt::Failed => false,
        }
    };

    let mut clean = false;
    let mut notes = Vec::new();
    if let Some(named) = candidates.base_commit {
        match mirror.resolve(named)? {
            // `resolve` answers only for a commit the mirror has.
            Some(oid) => {
                let reason = format!("base-commit {named} named by the series");
                let got = attempt(oid.clone(), reason.clone())?;
                clean = take(got, &oid, &reason, None);
            }
            _ => notes.push(format!("its base-commit {named} is not in the tree")),
        }
    }
    let suffix = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    let mut guessed: Option<Option<(Oid, String)>> = None;
    'branches: for branch in candidates.branches {
        if clean {
            break;
        }
        let Some(head) = mirror.branch_head(branch)? else {
            continue;
        };
        let reason = format!("head of {branch}{suffix}");
        let got = attempt(head.clone(), reason.clone())?;
        let head_merged = matches!(got, Attempt::Applied(_, false));
        if take(got, &head, &reason, Some(branch)) {
            break 'branches;
        }
        // An archive replayed later: the branch has moved on since the
        // posting, so the series is tried where it was made, or where the
        // branch stood when it was posted. A series posted after the head
        // does not apply to it, whatever older base would take it.
        let head_date = mirror.commit_date(&head)?;
        let replay = candidates.posted.is_some_and(|p| p < head_date);
        // The base the author used, as the patches' blobs tell, when the
        // head needed a three-way merge (a clean apply is better evidence)
        // or in a replay.
        if (head_merged || replay) && guessed.is_none() {
            guessed = Some((candidates.guess)()?);
        }
        let here = guessed
            .as_ref()
            .and_then(|g| g.as_ref())
            .filter(|(_, b)| b == branch);
        if let Some((oid, on)) = here {
            if head_merged || replay {
                let reason = format!(
                    "the commit of {on} whose files are those the patches were made against{suffix}"
                );
                let got = attempt(oid.clone(), reason.clone())?;
                if take(got, oid, &reason, Some(branch)) {
                    break 'branches;
                }
            }
        }
        if let Some(posted) = candidates.posted.filter(|_| replay) {
            if let Some(then) = mirror.branch_at(branch, posted)? {
                let reason = format!("{branch} as it stood when the series was posted{suffix}");
                let got = attempt(then.clone(), reason.clone())?;
                if take(got, &then, &reason, Some(branch)) {
                    break 'branches;
                }
            }
        }
    }
    // Where a series that changes nothing on some base landed: a commit
    // with each patch's subject, committed no earlier than a week before the
    // posting (clocks and backdated postings).
    let landed = match no_op {
        None => None,
        Some((base, base_reason, branch, subjects)) => {
            let since = candidates.posted.map_or(0, |p| p - 7 * 86_400);
            let mut landed = Vec::new();
            for subject in subjects {
                let commit = mirror
                    .find_by_subject(&base, &subject, since)?
                    .map(|o| o.to_string());
                landed.push(Landed { subject, commit });
            }
            Some(AlreadyApplied {
                base: base.to_string(),
                base_reason,
                branch,
                landed,
            })
        }
    };
    if let Some(mut a) = merged {
        a.already_in = landed;
        return Ok(Applying::Applied(a));
    }
    if let Some(landed) = landed {
        return Ok(Applying::AlreadyApplied(landed));
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
