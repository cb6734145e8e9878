//! Baseline classes, flakes and branch rules to a verdict with reasons: pure.
//!
//! The flow inside this crate follows the gate's questions in order:
//! `classify` (what does each test's result mean against the base, the
//! retries and history?), `policy` (what does a branch require?), `rules`
//! (is each requirement met, and why not?), `verdict` (so may the series
//! pass?) and `markdown` (the policy as documentation). No IO, no clock, no
//! store: callers hand in runs, files and trailers and get values back.

mod classify;
mod flake;
mod markdown;
mod policy;
mod rules;
mod verdict;

pub use classify::{
    classify, judge_suite, Class, FlakeThreshold, History, RunOutcome, SuiteReport, SuiteRun,
    SuiteStatus, TestReport,
};
pub use flake::{fold, wants_retry, TestHistory};
pub use markdown::{render_branch, render_markdown};
pub use policy::{
    parse_clause, BranchConfig, BranchPolicy, Clause, ClauseError, IncludesTest, Policy,
    PolicyError, PolicyErrors,
};
pub use rules::{sent_by_named, RuleResult, RuleStatus, Trailer};
pub use verdict::{judge, Outcome, Verdict, VerdictInput, VerdictStatus, APPLY_RULE};
