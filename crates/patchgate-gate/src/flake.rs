//! Flakiness: when another attempt of a suite can still tell something, and
//! what a test's stored history says about it. Together with the classes in
//! `classify`, this is all the gate knows of flakes; the store only keeps
//! the runs.

use patchgate_results::Status;
use serde::Serialize;
use std::collections::HashMap;

use crate::classify::{RunOutcome, SuiteRun};

/// One test's record over all stored runs of its suite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TestHistory {
    /// Runs that reported the test.
    pub runs: u64,
    pub passes: u64,
    pub failures: u64,
    pub skips: u64,
    /// Changes between pass and fail from one run to the next, in start order.
    pub flips: u64,
    /// Commits on which the test both passed and failed: proven flaky.
    pub flaky_commits: u64,
}

/// Folds a test's stored results, `(commit, status)` in the order the runs
/// started (`pass`, `fail`, anything else counted as a skip).
pub fn fold<'a>(results: impl IntoIterator<Item = (&'a str, &'a str)>) -> TestHistory {
    let mut h = TestHistory::default();
    let mut last: Option<bool> = None;
    // Per commit: (passed once, failed once).
    let mut per_commit: HashMap<&str, (bool, bool)> = HashMap::new();
    for (commit, status) in results {
        h.runs += 1;
        let passed = match status {
            "pass" => true,
            "fail" => false,
            _ => {
                h.skips += 1;
                continue;
            }
        };
        if passed {
            h.passes += 1;
        } else {
            h.failures += 1;
        }
        if last.is_some_and(|l| l != passed) {
            h.flips += 1;
        }
        last = Some(passed);
        let seen = per_commit.entry(commit).or_default();
        if passed {
            seen.0 = true;
        } else {
            seen.1 = true;
        }
    }
    h.flaky_commits = per_commit.values().filter(|(p, f)| *p && *f).count() as u64;
    h
}

/// Whether another attempt can still tell something. Not when the first
/// attempt passed. Otherwise, for each test that failed in the first
/// attempt: once it has passed in a later one it is proven flaky, and when
/// it fails on the base too (`base`, when known) a rerun cannot clear the
/// series; only a test that passes on the base and has failed every attempt
/// so far is a suspected regression worth another run. On the base itself
/// (`base` is `None`) every failing test is rerun until it passes once, so
/// a flake there is never taken for a known failure.
pub fn wants_retry(runs: &[SuiteRun], base: Option<&[SuiteRun]>) -> bool {
    let Some(first) = runs.first() else {
        return true;
    };
    if !matches!(first.outcome, RunOutcome::Finished { .. }) {
        return runs
            .iter()
            .all(|r| !matches!(r.outcome, RunOutcome::Finished { .. }));
    }
    let failed: Vec<&str> = first
        .parsed
        .tests
        .iter()
        .filter(|t| t.status == Status::Fail)
        .map(|t| t.name.as_str())
        .collect();
    if failed.is_empty() {
        return !first.parsed.complete;
    }
    let passes_on_base = |name: &str| match base {
        None => true,
        Some(base) => base
            .iter()
            .any(|r| r.parsed.get(name).is_some_and(|t| t.status == Status::Pass)),
    };
    failed.iter().any(|name| {
        passes_on_base(name)
            && !runs[1..]
                .iter()
                .any(|r| r.parsed.get(name).is_some_and(|t| t.status == Status::Pass))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_counts_flips_and_commits_with_both_results() {
        let h = fold([
            ("c1", "pass"),
            ("c1", "fail"),
            ("c2", "fail"),
            ("c2", "skip"),
            ("c3", "pass"),
        ]);
        assert_eq!(
            (
                h.runs,
                h.passes,
                h.failures,
                h.skips,
                h.flips,
                h.flaky_commits
            ),
            (5, 2, 2, 1, 2, 1)
        );
    }
}
