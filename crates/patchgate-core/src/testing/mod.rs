//! The test stage: apply a series, run the tree's suites on it and on its
//! base in the sandbox, classify every test against the base, and judge the
//! result against a branch's rules.
//!
//! The same function serves `patchgate test` (in the foreground), the jobs
//! of `patchgate worker`, and `patchgate run`. It records what it does as
//! events of the series, so its history shows each step.

mod apply;
mod suites;

pub use apply::{short, ApplyFailure};
pub use suites::fingerprint;

use crate::config::{Config, Tree};
use crate::series_mbox::{series_mbox, MboxError};
use patchgate_gate::{
    judge, judge_suite, BranchConfig, BranchPolicy, Clause, FlakeThreshold, History, Policy,
    Trailer, Verdict, VerdictInput, VerdictStatus,
};
use patchgate_git::{AmOptions, GitError, Mirror, Worktree};
use patchgate_sandbox::Sandbox;
use patchgate_store::{Event, EventKind, SeriesDetail, Store};
use serde::Serialize;
use serde_json::json;
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
    #[error("cannot run the suite in the sandbox")]
    Sandbox(#[from] patchgate_sandbox::Error),
    #[error(transparent)]
    Store(#[from] patchgate_store::Error),
    #[error("cannot create {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
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
    let configs: Vec<BranchConfig<'_>> = tree
        .branches
        .values()
        .map(|b| BranchConfig {
            name: &b.name,
            from: b.from.as_deref(),
            requires: &b.requires,
        })
        .collect();
    let includes = tree
        .rules
        .get("includes-test")
        .map(|r| (r.code.as_slice(), r.tests.as_slice()));
    let policy =
        Policy::new(&tree.name, &suites, &configs, includes).map_err(|e| TestError::Policy {
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
    pub fn test(
        &self,
        store: &mut dyn Store,
        id: i64,
        branch: Option<&str>,
    ) -> Result<TestReport, TestError> {
        let detail = store.series_detail(id)?.ok_or(TestError::NotFound(id))?;
        let tree = self
            .config
            .route(&detail.series.tags)
            .ok_or_else(|| TestError::NoTree {
                series: id,
                tags: detail.series.tags.join(", "),
            })?;
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

        self.event(
            store,
            id,
            EventKind::Applying,
            json!({"tree": tree.name, "branch": policy.name}),
        )?;
        let options = AmOptions {
            three_way: true,
            committer_name: "patchgate".into(),
            committer_email: "patchgate@localhost".into(),
            // The posting date as committer date makes the applied commits
            // the same every time, so their runs are found again.
            committer_date: detail.series.date.map(|t| format!("@{t} +0000")),
        };
        let candidates = apply::Candidates {
            base_commit: detail.series.base_commit.as_deref(),
            branches: &tree.bases,
            posted: detail.series.date,
        };
        let label = format!("series-{id}");
        let applied = match apply::apply(&mirror, &jobs, &label, &mbox, &options, &candidates)? {
            apply::Applying::Applied(a) => a,
            apply::Applying::Failed(f) => {
                let verdict = judge(
                    VerdictInput {
                        applied: false,
                        apply_error: Some(f.explain()),
                        ..VerdictInput::default()
                    },
                    &policy,
                );
                self.event(
                    store,
                    id,
                    EventKind::ApplyFailed,
                    json!({"base": f.base, "patch": f.patch, "files": f.files}),
                )?;
                let report = TestReport {
                    series: id,
                    tree: tree.name.clone(),
                    branch: policy.name.clone(),
                    base: Some(f.base.clone()),
                    base_reason: Some(f.base_reason.clone()),
                    head: None,
                    apply_failure: Some(f),
                    verdict,
                };
                return Ok(report);
            }
        };
        let base = applied.base.to_string();
        let head = applied.head.to_string();
        self.event(
            store,
            id,
            EventKind::Testing,
            json!({"base": base, "head": head, "why": applied.reason}),
        )?;

        let files_changed = mirror.diff_names(&applied.base, &applied.head)?;
        let mut base_tree: Option<Worktree> = None;
        let mut reports = Vec::new();
        for clause in &policy.clauses {
            let Clause::Suite { name } = clause else {
                continue;
            };
            let Some(suite) = tree.suites.get(name) else {
                continue;
            };
            let now = || self.clock.now();
            // The base first: its results decide which of the series'
            // failures are worth a retry. Its worktree is made only when its
            // runs are not stored yet.
            let mut base_dir = || -> Result<PathBuf, TestError> {
                let worktree = match &mut base_tree {
                    Some(w) => w,
                    None => base_tree.insert(
                        mirror.add_worktree(apply::worktree_dir(&jobs, "base"), &applied.base)?,
                    ),
                };
                Ok(worktree.path().to_path_buf())
            };
            let base_runs = suites::runs(
                store,
                self.sandbox,
                name,
                suite,
                &base,
                &mut base_dir,
                &now,
                None,
            )?;
            let mut series_dir = || Ok(applied.worktree.path().to_path_buf());
            let series_runs = suites::runs(
                store,
                self.sandbox,
                name,
                suite,
                &head,
                &mut series_dir,
                &now,
                Some(&base_runs),
            )?;
            let mut history = History::new();
            for run in &series_runs {
                for t in &run.parsed.tests {
                    if history.contains_key(&t.name) {
                        continue;
                    }
                    let h = store.test_history(name, &t.name)?;
                    history.insert(t.name.clone(), (clamp(h.runs), clamp(h.flaky_commits)));
                }
            }
            reports.push(judge_suite(
                name,
                &base_runs,
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
                trailers: trailers(&detail),
                patch_count: detail.patches.len() as u32,
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
            verdict,
        };
        drop(base_tree);
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
        let value = serde_json::to_value(report).unwrap_or_default();
        store.record_verdict(report.series, &report.branch, &value, self.clock.now())?;
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
        self.event(
            store,
            report.series,
            kind,
            json!({"branch": report.branch, "verdict": report.verdict.verdict, "head": report.head, "because": blocking}),
        )
    }
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Every trailer of the series, with the patch it belongs to: the patches'
/// own, and those collected from replies.
fn trailers(detail: &SeriesDetail) -> Vec<Trailer> {
    let mut out = Vec::new();
    for p in &detail.patches {
        for t in &p.trailers {
            out.push(Trailer {
                name: t.name.clone(),
                value: t.value.clone(),
                from: Some(p.author.email.clone()),
                patch: Some(p.index),
            });
        }
        for c in &p.collected {
            out.push(Trailer {
                name: c.trailer.name.clone(),
                value: c.trailer.value.clone(),
                from: Some(c.from_message.clone()),
                patch: Some(p.index),
            });
        }
    }
    out
}
