//! The test stage: apply a series, run the tree's suites on it and on its
//! base in the sandbox, classify every test against the base, and judge the
//! result against a branch's rules.
//!
//! The same function serves `patchgate test` (in the foreground), the jobs
//! of `patchgate worker`, and `patchgate run`. It records what it does as
//! events of the series, so its history shows each step.

mod apply;
mod base;
mod suites;

pub use apply::{short, ApplyFailure};
pub use suites::fingerprint;

use crate::config::{Config, Tree};
use crate::series_mbox::{series_mbox, MboxError};
use patchgate_gate::{
    judge, judge_suite, BranchPolicy, Clause, FlakeThreshold, History, Trailer, Verdict,
    VerdictInput, VerdictStatus,
};
use patchgate_git::{AmOptions, GitError, Mirror};
use patchgate_lifecycle::detail::{self, Detail};
use patchgate_sandbox::Sandbox;
use patchgate_store::{Event, EventKind, Recording, SeriesDetail, Store};
use serde::Serialize;
use std::path::PathBuf;

/// The wall clock, handed in by the binary (tests may hand in another).
pub trait Clock: Send + Sync {
    /// Unix seconds.
    fn now(&self) -> i64;
}

/// Why a test could not be carried out (as opposed to a failing verdict).
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error("no series {0}")]
    NotFound(i64),
    #[error(
        "series {series} has tags [{tags}] and no tree takes them: add a tree with tag = \"\" \
         or with one of these tags to the configuration"
    )]
    NoTree { series: i64, tags: String },
    #[error(
        "series {series} was scheduled for tree `{tree}`, which the configuration no longer \
         has; schedule it again (`patchgate run`) or restore the tree"
    )]
    NoSuchTree { series: i64, tree: String },
    #[error("tree {tree} has no branch `{branch}`; its branches: {known}")]
    NoBranch {
        tree: String,
        branch: String,
        known: String,
    },
    #[error("tree {tree}: {errors}")]
    Policy { tree: String, errors: String },
    #[error("none of the base branches ({branches}) exists in the tree")]
    NoBase { branches: String },
    #[error(transparent)]
    Mbox(#[from] MboxError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("cannot run the suite in the sandbox: {0}")]
    Sandbox(#[from] patchgate_sandbox::Error),
    #[error(transparent)]
    Store(#[from] patchgate_store::Error),
    #[error("cannot create {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl TestError {
    /// A failure of the machine's (git, the sandbox, the disk, the store)
    /// that may pass: the job is worth another try later. The others are
    /// the configuration's or the request's, and trying again changes
    /// nothing.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            TestError::Git(_)
                | TestError::Sandbox(_)
                | TestError::Store(_)
                | TestError::Io { .. }
                | TestError::Mbox(_)
        ) && !self.is_interrupted()
    }

    /// The test was stopped from outside (Ctrl-C, SIGTERM).
    pub fn is_interrupted(&self) -> bool {
        matches!(
            self,
            TestError::Sandbox(patchgate_sandbox::Error::Cancelled)
        )
    }
}

/// What `patchgate test --json` prints (the contract in DESIGN.md, plus
/// where and why).
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub series: i64,
    pub tree: String,
    pub branch: String,
    /// Full commit id of the base the series was applied to (or first tried).
    pub base: Option<String>,
    pub base_reason: Option<String>,
    /// Full commit id of the series' last patch, applied.
    pub head: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_failure: Option<ApplyFailure>,
    /// Every patch changes nothing on every base: the series has landed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_applied: Option<apply::AlreadyApplied>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Everything the test stage needs besides the store.
pub struct Tester<'a> {
    pub config: &'a Config,
    pub sandbox: &'a Sandbox,
    pub clock: &'a dyn Clock,
    /// Who acts, for the event log (`patchgate test`, `worker host:pid`).
    pub actor: String,
}

impl std::fmt::Debug for Tester<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tester")
            .field("actor", &self.actor)
            .finish()
    }
}

/// The branch policy a series is judged by: `--branch B`, else the tree's
/// first branch, else "every suite passes".
pub fn branch_policy(tree: &Tree, branch: Option<&str>) -> Result<BranchPolicy, TestError> {
    let suites: Vec<String> = tree.suites.keys().cloned().collect();
    let policy = tree.policy().map_err(|e| TestError::Policy {
        tree: tree.name.clone(),
        errors: e.to_string(),
    })?;
    match branch {
        Some(b) => policy
            .branch(b)
            .cloned()
            .ok_or_else(|| TestError::NoBranch {
                tree: tree.name.clone(),
                branch: b.to_string(),
                known: tree.branches.keys().cloned().collect::<Vec<_>>().join(", "),
            }),
        None => Ok(policy
            .branches
            .first()
            .cloned()
            .unwrap_or_else(|| BranchPolicy::all_suites("(every suite)", &suites))),
    }
}

impl Tester<'_> {
    /// Remove worktrees that dead processes left, and let git pack the
    /// mirror if it needs it, once per mirror and process: a crash's
    /// leftovers go at the next start, and the jobs after that do not pay.
    fn prune_once(&self, mirror: &Mirror, jobs: &std::path::Path) -> Result<(), TestError> {
        static PRUNED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
        let mut pruned = PRUNED.lock().unwrap_or_else(|e| e.into_inner());
        if !pruned.iter().any(|p| p == mirror.dir()) {
            mirror.prune_stale_worktrees(jobs, &apply::in_use)?;
            mirror.maintain()?;
            pruned.push(mirror.dir().to_path_buf());
        }
        Ok(())
    }

    fn event(
        &self,
        store: &mut dyn Store,
        series: i64,
        kind: EventKind,
        detail: serde_json::Value,
    ) -> Result<(), TestError> {
        store.append_event(
            series,
            &Event {
                at: self.clock.now(),
                kind,
                actor: self.actor.clone(),
                detail,
            },
        )?;
        Ok(())
    }

    /// Apply, run and judge series `id` for `branch` (see [`branch_policy`]).
    /// Runs are recorded as they finish; the verdict is returned, and
    /// recorded by [`Tester::record`].
    ///
    /// A test that stops before its verdict (interrupted, or git or the
    /// sandbox failing) leaves the series new again, with an `untested`
    /// event saying why, never stranded in `applying` or `testing`.
    pub fn test(
        &self,
        store: &mut dyn Store,
        id: i64,
        branch: Option<&str>,
    ) -> Result<TestReport, TestError> {
        self.test_in(store, id, None, branch)
    }

    /// [`Tester::test`] in tree `tree` (as a job names it, chosen when the
    /// job was scheduled) instead of the one the series' tags route to.
    pub fn test_in(
        &self,
        store: &mut dyn Store,
        id: i64,
        tree: Option<&str>,
        branch: Option<&str>,
    ) -> Result<TestReport, TestError> {
        let result = self.test_unrecorded(store, id, tree, branch);
        if let Err(e) = &result {
            // Said in the history whether or not the test got as far as
            // `applying` (a mirror that cannot be fetched stops it before).
            let state = store.get_series(id).ok().flatten().map(|s| s.state);
            if state.is_some() && !matches!(e, TestError::NotFound(_)) {
                let untested = detail::Untested {
                    why: Some(e.to_string()),
                    retry: Some(e.is_transient()),
                };
                self.event(store, id, detail::Untested::KIND, untested.to_value())?;
            }
        }
        result
    }

    fn test_unrecorded(
        &self,
        store: &mut dyn Store,
        id: i64,
        tree: Option<&str>,
        branch: Option<&str>,
    ) -> Result<TestReport, TestError> {
        let detail = store.series_detail(id)?.ok_or(TestError::NotFound(id))?;
        let tree = match tree {
            Some(name) => self
                .config
                .trees
                .get(name)
                .ok_or_else(|| TestError::NoSuchTree {
                    series: id,
                    tree: name.to_string(),
                })?,
            None => self
                .config
                .route(&detail.series.tags)
                .ok_or_else(|| TestError::NoTree {
                    series: id,
                    tags: detail.series.tags.join(", "),
                })?,
        };
        let policy = branch_policy(tree, branch)?;
        let mbox = series_mbox(store, &detail)?;

        let mirrors = self.config.state_dir.join("mirrors");
        let jobs = self.config.state_dir.join("work");
        for dir in [&mirrors, &jobs] {
            std::fs::create_dir_all(dir).map_err(|source| TestError::Io {
                path: dir.clone(),
                source,
            })?;
        }
        let mirror = Mirror::open_or_clone(&tree.repo, mirrors.join(format!("{}.git", tree.name)))?;
        mirror.fetch()?;
        self.prune_once(&mirror, &jobs)?;

        // Which process tests it, so a series left in `applying` by a
        // process that died is known to be stranded (see
        // `worker::reschedule_stranded`).
        let applying = detail::Applying {
            tree: Some(tree.name.clone()),
            branch: Some(policy.name.clone()),
            host: Some(host_name()),
            pid: Some(u64::from(std::process::id())),
        };
        self.event(store, id, detail::Applying::KIND, applying.to_value())?;
        let options = AmOptions {
            three_way: true,
            committer_name: "patchgate".into(),
            committer_email: "patchgate@localhost".into(),
            // The posting date as committer date makes the applied commits
            // the same every time, so their runs are found again.
            committer_date: detail.series.date.map(|t| format!("@{t} +0000")),
        };
        // The tree the patches were made on, as their `index` lines tell.
        let images = base::Images::of(&base::patch_messages(store, &detail)?);
        let named_base = match detail.series.base_commit.as_deref() {
            Some(b) => mirror.resolve(b)?.is_some(),
            None => false,
        };
        let guess = || {
            if named_base {
                Ok(None)
            } else {
                base::guess_base(&mirror, &tree.bases, &images, detail.series.date)
            }
        };
        let candidates = apply::Candidates {
            base_commit: detail.series.base_commit.as_deref(),
            guess: &guess,
            branches: &tree.bases,
            posted: detail.series.date,
            prelude: None,
        };
        let label = format!("series-{id}");
        let mut applying = apply::apply(&mirror, &jobs, &label, &mbox, &options, &candidates)?;
        if let apply::Applying::Failed(failure) = &mut applying {
            // Posted on top of another series still on the list: apply
            // that one first, and judge this one from its end.
            let mut stacked = None;
            if let Some(pre) = base::prerequisite(store, &detail, &images)? {
                if let Ok(pre_mbox) = series_mbox(store, &pre.detail) {
                    let pre_guess =
                        || base::guess_base(&mirror, &tree.bases, &pre.images, pre.series.date);
                    let label_pre = format!(
                        "series {} \"{}\" (v{}), which it needs: {}",
                        pre.series.id, pre.series.subject, pre.series.version, pre.why
                    );
                    let on_top = apply::Candidates {
                        base_commit: pre.series.base_commit.as_deref(),
                        guess: &pre_guess,
                        branches: &tree.bases,
                        posted: pre.series.date.or(detail.series.date),
                        prelude: Some(apply::Prelude {
                            mbox: pre_mbox,
                            label: label_pre,
                        }),
                    };
                    if let a @ apply::Applying::Applied(_) =
                        apply::apply(&mirror, &jobs, &label, &mbox, &options, &on_top)?
                    {
                        stacked = Some(a);
                    }
                }
            }
            match stacked {
                Some(a) => applying = a,
                None => {
                    if let Some(base) = mirror.resolve(&failure.base)? {
                        failure.not_for_tree = base::foreign_files(&mirror, &base, &images)?;
                    }
                }
            }
        }
        // Nothing was applied, so nothing was tested: never a pass.
        let not_applied = |base: &str, why: &str, error: String| TestReport {
            series: id,
            tree: tree.name.clone(),
            branch: policy.name.clone(),
            base: Some(base.to_string()),
            base_reason: Some(why.to_string()),
            head: None,
            apply_failure: None,
            already_applied: None,
            verdict: judge(
                VerdictInput {
                    applied: false,
                    apply_error: Some(error),
                    ..VerdictInput::default()
                },
                &policy,
            ),
        };
        let applied = match applying {
            apply::Applying::Applied(a) => a,
            apply::Applying::Failed(f) => {
                let failed = detail::ApplyFailed {
                    base: Some(f.base.clone()),
                    patch: Some(f.patch as u64),
                    files: Some(f.files.clone()),
                    not_for_tree: Some(!f.not_for_tree.is_empty()),
                };
                self.event(store, id, detail::ApplyFailed::KIND, failed.to_value())?;
                return Ok(TestReport {
                    apply_failure: Some(f.clone()),
                    ..not_applied(&f.base, &f.base_reason, f.explain())
                });
            }
            apply::Applying::AlreadyApplied(landed) => {
                return Ok(TestReport {
                    already_applied: Some(landed.clone()),
                    ..not_applied(&landed.base, &landed.base_reason, landed.explain())
                });
            }
        };
        let base = applied.base.to_string();
        let head = applied.head.to_string();
        let testing = detail::Testing {
            base: Some(base.clone()),
            head: Some(head.clone()),
            why: Some(applied.reason.clone()),
        };
        self.event(store, id, detail::Testing::KIND, testing.to_value())?;

        // What the series' own patches touch, as their diffs say (both
        // sides of a rename), without asking git.
        let files_changed: Vec<String> = images.touched();
        let suites_run: Vec<(&String, &crate::config::Suite)> = policy
            .clauses
            .iter()
            .filter_map(|c| match c {
                Clause::Suite { name } => tree.suites.get_key_value(name),
                _ => None,
            })
            .collect();
        let now = || self.clock.now();
        // The base first: its results decide which of the series' failures
        // are worth a retry. Runs already stored are reused; the others run
        // in the series' own worktree switched to the base, and the
        // worktree is switched back, pristine, before the series runs: a
        // second worktree would cost a checkout of the whole tree.
        let mut at_base = false;
        let mut base_runs = Vec::new();
        for (name, suite) in &suites_run {
            let mut base_dir = || -> Result<PathBuf, TestError> {
                if !at_base {
                    // Nothing has run in the worktree yet: only `am` wrote.
                    applied.worktree.switch_to(&applied.base, false)?;
                    at_base = true;
                }
                Ok(applied.worktree.path().to_path_buf())
            };
            base_runs.push(suites::runs(
                store,
                self.sandbox,
                name,
                suite,
                &base,
                &mut base_dir,
                &now,
                None,
            )?);
        }
        if at_base {
            applied.worktree.switch_to(&applied.head, true)?;
        }
        let mut reports = Vec::new();
        for ((name, suite), base_runs) in suites_run.iter().zip(&base_runs) {
            let mut series_dir = || Ok(applied.worktree.path().to_path_buf());
            let series_runs = suites::runs(
                store,
                self.sandbox,
                name,
                suite,
                &head,
                &mut series_dir,
                &now,
                Some(base_runs),
            )?;
            let mut history = History::new();
            for run in &series_runs {
                for t in &run.parsed.tests {
                    if history.contains_key(&t.name) {
                        continue;
                    }
                    let results = store.test_results(name, &t.name)?;
                    let h =
                        patchgate_gate::fold(results.iter().map(|(c, s)| (c.as_str(), s.as_str())));
                    history.insert(t.name.clone(), (clamp(h.runs), clamp(h.flaky_commits)));
                }
            }
            reports.push(judge_suite(
                name,
                base_runs,
                &series_runs,
                &history,
                FlakeThreshold::default(),
            ));
        }
        let verdict = judge(
            VerdictInput {
                applied: true,
                apply_error: None,
                suites: reports,
                files_changed,
                trailers: trailers(&detail, &earlier_reviews(store, &detail)?),
                patch_count: detail.patches.len() as u32,
                authors: authors(&detail),
            },
            &policy,
        );
        let report = TestReport {
            series: id,
            tree: tree.name.clone(),
            branch: policy.name.clone(),
            base: Some(base),
            base_reason: Some(applied.reason.clone()),
            head: Some(head),
            apply_failure: None,
            already_applied: applied.already_in.clone(),
            verdict,
        };
        // The verdict stands whether or not the worktree goes: one left
        // behind is removed at the next start.
        if let Err(e) = applied.worktree.remove() {
            tracing::warn!("cannot remove a worktree of series {id}: {e}");
        }
        Ok(report)
    }

    /// Record the verdict and the state it leads to. Separate from
    /// [`Tester::test`] so that a worker records it only while it still
    /// holds the job.
    pub fn record(&self, store: &mut dyn Store, report: &TestReport) -> Result<(), TestError> {
        store.record(&self.recording(report))?;
        Ok(())
    }

    /// What recording `report` writes, for the store to write in one
    /// transaction (with the job's end, for a worker): the verdict, the
    /// event it leads to, and `merged` when the series was found landed.
    pub fn recording(&self, report: &TestReport) -> Recording {
        let at = self.clock.now();
        let landed_event = |landed: &apply::AlreadyApplied| {
            detail::Merged {
                branch: landed.branch.clone(),
                base: Some(landed.base.clone()),
                commits: Some(landed.landed.iter().map(|l| l.commit.clone()).collect()),
                why: Some(landed.explain()),
            }
            .event(at, self.actor.clone())
        };
        let mut events = Vec::new();
        match (&report.already_applied, &report.head) {
            // The signal that the series landed, however it got there.
            (Some(landed), None) => events.push(landed_event(landed)),
            _ => {
                let kind = if report.apply_failure.is_some() {
                    EventKind::Verdict
                } else if report.verdict.verdict == VerdictStatus::Pass {
                    EventKind::TestedPass
                } else {
                    EventKind::TestedFail
                };
                let blocking: Vec<String> = report
                    .verdict
                    .blocking()
                    .map(|r| format!("{}: {}", r.name, r.reason))
                    .collect();
                let verdict = match report.verdict.verdict {
                    VerdictStatus::Pass => "pass",
                    VerdictStatus::Fail => "fail",
                };
                let judged = detail::Judged {
                    branch: Some(report.branch.clone()),
                    verdict: Some(verdict.to_string()),
                    head: report.head.clone(),
                    because: Some(blocking),
                };
                events.push(judged.event(kind, at, self.actor.clone()));
                // Tested where it was made, and found on the branch already.
                if let Some(landed) = &report.already_applied {
                    events.push(landed_event(landed));
                }
            }
        }
        Recording {
            series_id: report.series,
            branch: report.branch.clone(),
            verdict: serde_json::to_value(report).unwrap_or_default(),
            at,
            events,
        }
    }
}

/// This machine's name, as the event log records who tests what.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// What an earlier revision's replies gave: `(patch author, patch title,
/// trailer name, the reviewer's address)`.
type EarlierReviews = std::collections::HashSet<(String, String, String, String)>;

/// A trailer a revision carries from review of an earlier one (as b4 and
/// authors carry them forward) is taken as sent by the person it names
/// when that person did send it, in a reply, for the patch of the same
/// title by the same author in an earlier revision of the same topic. The
/// author is part of the match: anyone can thread a "v2" under someone
/// else's reviewed v1, and a review of Ann's patch says nothing of theirs.
fn earlier_reviews(store: &dyn Store, detail: &SeriesDetail) -> Result<EarlierReviews, TestError> {
    let mut given = std::collections::HashSet::new();
    for rev in store.topic_series(detail.series.topic)? {
        if rev.id == detail.series.id || rev.version >= detail.series.version {
            continue;
        }
        for p in store.series_patches(rev.id)? {
            let title = patchgate_mail::subject::parse(&p.subject).title;
            let author = p.author.email.to_ascii_lowercase();
            for c in &p.collected {
                let claim = Trailer {
                    name: c.trailer.name.clone(),
                    value: c.trailer.value.clone(),
                    from: Some(c.sender.email.clone()).filter(|e| !e.is_empty()),
                    patch: None,
                    in_patch: false,
                };
                if patchgate_gate::sent_by_named(&claim) {
                    given.insert((
                        author.clone(),
                        title.clone(),
                        c.trailer.name.to_ascii_lowercase(),
                        c.sender.email.to_ascii_lowercase(),
                    ));
                }
            }
        }
    }
    Ok(given)
}

/// Every trailer of the series, with the patch it belongs to and who sent
/// the mail it came in: the patches' own, and those collected from replies.
/// A trailer carried in a patch from an earlier revision's review counts as
/// sent by its reviewer when [`earlier_reviews`] holds it.
fn trailers(detail: &SeriesDetail, earlier: &EarlierReviews) -> Vec<Trailer> {
    let mut out = Vec::new();
    for p in &detail.patches {
        let title = patchgate_mail::subject::parse(&p.subject).title;
        let author = p.author.email.to_ascii_lowercase();
        // Rows stored before the sender was kept have none: the mail's
        // From was the author then.
        let sender = if p.sender.email.is_empty() {
            &p.author
        } else {
            &p.sender
        };
        for t in &p.trailers {
            let named = patchgate_mail::trailer::person(&t.value)
                .email
                .to_ascii_lowercase();
            let reviewed_before = earlier.contains(&(
                author.clone(),
                title.clone(),
                t.name.to_ascii_lowercase(),
                named.clone(),
            ));
            out.push(Trailer {
                name: t.name.clone(),
                value: t.value.clone(),
                from: Some(if reviewed_before {
                    named
                } else {
                    sender.email.clone()
                }),
                patch: Some(p.index),
                in_patch: true,
            });
        }
        for c in &p.collected {
            out.push(Trailer {
                name: c.trailer.name.clone(),
                value: c.trailer.value.clone(),
                from: Some(c.sender.email.clone()).filter(|e| !e.is_empty()),
                patch: Some(p.index),
                in_patch: false,
            });
        }
    }
    out
}

/// Each patch's author's address, patch 1 first.
fn authors(detail: &SeriesDetail) -> Vec<String> {
    detail
        .patches
        .iter()
        .map(|p| p.author.email.clone())
        .collect()
}
