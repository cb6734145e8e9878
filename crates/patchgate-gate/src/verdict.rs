//! The verdict: what a revision's runs and rules mean for one branch.
//!
//! Pass only when the series applied, every required suite ran to its end
//! with no regression and no failing new test, and every rule passed. The
//! `test` JSON knows only pass and fail, so a rule still `pending` (reviews
//! not given yet) makes the verdict `fail`; [`Verdict::outcome`] tells the
//! queue that such a series is waiting rather than rejected.

use crate::classify::SuiteReport;
use crate::policy::BranchPolicy;
use crate::rules::{evaluate, Facts, RuleResult, RuleStatus, Trailer};
use serde::{Deserialize, Serialize};

/// Everything the verdict is judged from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerdictInput {
    pub applied: bool,
    /// What `git am` said when the series did not apply.
    pub apply_error: Option<String>,
    /// From [`crate::judge_suite`], one per suite run (required or not).
    pub suites: Vec<SuiteReport>,
    /// Paths the series changes, relative to the tree's root.
    pub files_changed: Vec<String>,
    /// Trailers collected for the series, from its patches and replies.
    pub trailers: Vec<Trailer>,
    /// Number of patches, for per-patch rules; 0 checks the series as a whole.
    pub patch_count: u32,
    /// Each patch's author's address (the in-body `From:` when there is
    /// one), patch 1 first: nobody reviews their own patch, and sign-off
    /// is the author's.
    pub authors: Vec<String>,
}

/// `pass|fail` in the `test` JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictStatus {
    Pass,
    Fail,
}

/// Finer than [`VerdictStatus`]: whether a non-passing series can still pass
/// without a new revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Fail,
    /// Nothing failed; some rule is waiting (reviews).
    Pending,
}

/// The judged series, shaped as the `test` JSON contract (the caller adds
/// `series` and `base`, e.g. with `#[serde(flatten)]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub applied: bool,
    pub apply_error: Option<String>,
    pub suites: Vec<SuiteReport>,
    pub rules: Vec<RuleResult>,
    pub verdict: VerdictStatus,
}

impl Verdict {
    pub fn outcome(&self) -> Outcome {
        if self.verdict == VerdictStatus::Pass {
            Outcome::Pass
        } else if self.rules.iter().any(|r| r.status == RuleStatus::Fail) || !self.applied {
            Outcome::Fail
        } else {
            Outcome::Pending
        }
    }

    /// The rules that keep the series from passing, failing ones first.
    pub fn blocking(&self) -> impl Iterator<Item = &RuleResult> {
        let fails = self.rules.iter().filter(|r| r.status == RuleStatus::Fail);
        let pending = self
            .rules
            .iter()
            .filter(|r| r.status == RuleStatus::Pending);
        fails.chain(pending)
    }
}

/// The rule that always comes first: did the series apply?
pub const APPLY_RULE: &str = "applies";

/// Judges a series for one branch. Pure: the same input gives the same
/// verdict, with one rule result per clause, in the policy's order, after
/// the `applies` rule.
pub fn judge(input: VerdictInput, branch: &BranchPolicy) -> Verdict {
    let mut rules = Vec::with_capacity(branch.clauses.len() + 1);
    rules.push(RuleResult {
        name: APPLY_RULE.to_string(),
        status: if input.applied {
            RuleStatus::Pass
        } else {
            RuleStatus::Fail
        },
        reason: match (&input.applied, &input.apply_error) {
            (true, _) => "the series applies cleanly".to_string(),
            (false, Some(e)) if !e.trim().is_empty() => {
                format!(
                    "the series does not apply: {}; rebase it and post a new revision",
                    e.trim()
                )
            }
            (false, _) => {
                "the series does not apply; rebase it and post a new revision".to_string()
            }
        },
    });
    let facts = Facts {
        applied: input.applied,
        suites: &input.suites,
        files_changed: &input.files_changed,
        trailers: &input.trailers,
        patch_count: input.patch_count,
        authors: &input.authors,
    };
    for clause in &branch.clauses {
        rules.push(evaluate(clause, branch.includes_test.as_ref(), &facts));
    }
    let verdict = if rules.iter().all(|r| r.status == RuleStatus::Pass) {
        VerdictStatus::Pass
    } else {
        VerdictStatus::Fail
    };
    Verdict {
        applied: input.applied,
        apply_error: input.apply_error,
        suites: input.suites,
        rules,
        verdict,
    }
}
