//! Baseline classes: what each test's result with the series means once the
//! base commit's runs, the series' retries and the test's history are known.
//!
//! The point is fairness to the submitter: only a test that passes on the
//! base and fails with the series on every attempt is the series' fault
//! (a regression), as is a new test that always fails. Everything that fails
//! for other reasons (already broken, flaky) is shown but never blamed.

use patchgate_results::{Parsed, Status};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Per test name: how many recorded runs, and on how many commits the test
/// both passed and failed (proven flaky there).
///
/// Flakiness is measured on one commit at a time: a test that passes on a
/// hundred commits and fails on the one that broke it has flipped, but it
/// is not flaky, and counting flips across commits would excuse exactly the
/// regressions the gate exists to catch.
pub type History = HashMap<String, (u32, u32)>;

/// What a test's result means for the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    Ok,
    /// Passes on the base, fails with the series on every attempt.
    Regression,
    /// Fails on the base and with the series.
    PreExisting,
    /// Mixed results on one commit, or a history of flipping.
    Flaky,
    /// Fails on the base, passes with the series.
    Fixed,
    /// No result on the base to compare with.
    New,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Ok => "ok",
            Class::Regression => "regression",
            Class::PreExisting => "pre-existing",
            Class::Flaky => "flaky",
            Class::Fixed => "fixed",
            Class::New => "new",
        }
    }
}

/// When a recorded history makes a test flaky.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlakeThreshold {
    /// Fewer recorded runs than this say nothing.
    pub min_runs: u32,
    /// Commits with mixed results per recorded run, at or above which the
    /// test is flaky (given at least one such commit).
    pub rate: f64,
}

impl Default for FlakeThreshold {
    /// A test once seen both passing and failing on the same commit is
    /// not evidence against anybody.
    fn default() -> Self {
        FlakeThreshold {
            min_runs: 1,
            rate: 0.0,
        }
    }
}

impl FlakeThreshold {
    fn is_flaky(&self, history: &History, name: &str) -> bool {
        match history.get(name) {
            Some(&(runs, mixed)) if runs > 0 && runs >= self.min_runs && mixed > 0 => {
                f64::from(mixed) / f64::from(runs) >= self.rate
            }
            _ => false,
        }
    }
}

/// How one run of a suite ended, as the sandbox saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RunOutcome {
    /// The command exited by itself (`None`: killed by a signal it raised).
    Finished {
        exit_code: Option<i32>,
    },
    /// It could not be run, or the runner failed.
    Error {
        message: String,
    },
    Timeout {
        limit: String,
    },
    /// A memory, process or output limit stopped it.
    LimitHit {
        limit: String,
    },
}

/// One run of one suite: how it ended and what it printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteRun {
    pub outcome: RunOutcome,
    pub parsed: Parsed,
}

/// Suite status in the `test` JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuiteStatus {
    Pass,
    Fail,
    /// Did not run to its end for a reason other than time.
    Error,
    Timeout,
}

/// One test in the `test` JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestReport {
    pub name: String,
    /// The result of the series' first attempt that reported this test.
    pub status: Status,
    pub class: Class,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl TestReport {
    /// Whether this result is the series' fault.
    pub fn blames_series(&self) -> bool {
        self.class == Class::Regression || (self.class == Class::New && self.status == Status::Fail)
    }
}

/// One suite in the `test` JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteReport {
    pub name: String,
    pub status: SuiteStatus,
    pub tests: Vec<TestReport>,
    /// Why the status is what it is, when that is not just the tests:
    /// timeouts, crashes, parser problems. Also notes the base's own state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why the base cannot serve as the reference for this suite (it does
    /// not run to its end there, or the suite as a whole fails there on
    /// every attempt): the series cannot be judged by it, in either
    /// direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_broken: Option<String>,
}

/// Why `base` (the base commit's attempts of suite `name`) is no reference:
/// no attempt ran to its end, or the suite as a whole failed on every
/// attempt (an exit-code suite reports one test named after the suite; a
/// build that fails on the base hides any breakage the series adds).
fn broken_base(name: &str, base: &[SuiteRun]) -> Option<String> {
    if base.is_empty() {
        return None;
    }
    let finished =
        |r: &SuiteRun| matches!(r.outcome, RunOutcome::Finished { .. }) && r.parsed.complete;
    if !base.iter().any(finished) {
        let (_, notes) = suite_status(&base[0]);
        return Some(format!(
            "does not run to its end on the base{}",
            if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            }
        ));
    }
    let fails_whole = base
        .iter()
        .all(|r| r.parsed.get(name).is_some_and(|t| t.status == Status::Fail));
    if fails_whole {
        let attempts = base.len();
        return Some(format!(
            "fails on the base{}",
            if attempts > 1 {
                format!(" on all {attempts} attempts")
            } else {
                String::new()
            }
        ));
    }
    None
}

/// Judges one suite: its status from the series' first attempt, and a class
/// for every test the series reported.
///
/// `series[0]` is the first attempt and the rest are retries; `base` holds
/// the base commit's attempts. An empty `series` gives an `error` suite.
pub fn judge_suite(
    name: &str,
    base: &[SuiteRun],
    series: &[SuiteRun],
    history: &History,
    threshold: FlakeThreshold,
) -> SuiteReport {
    let Some(first) = series.first() else {
        return SuiteReport {
            name: name.to_string(),
            status: SuiteStatus::Error,
            tests: Vec::new(),
            notes: vec!["the suite was not run with the series".to_string()],
            base_broken: broken_base(name, base),
        };
    };
    let (status, mut notes) = suite_status(first);
    if status != SuiteStatus::Pass && status != SuiteStatus::Fail {
        if let Some(b) = base.first() {
            if suite_status(b).0 == status {
                notes.push(
                    "the base commit ends the same way, so the series did not cause this; \
                     the suite must still run to its end before anything can pass"
                        .to_string(),
                );
            }
        }
    }
    let tests = classify(base, series, history, threshold);
    SuiteReport {
        name: name.to_string(),
        status,
        tests,
        notes,
        base_broken: broken_base(name, base),
    }
}

/// The status of one run, with sentences saying why when it is not the tests.
fn suite_status(run: &SuiteRun) -> (SuiteStatus, Vec<String>) {
    let mut notes: Vec<String> = Vec::new();
    let status = match &run.outcome {
        RunOutcome::Timeout { limit } => {
            notes.push(format!("timed out after {limit}"));
            SuiteStatus::Timeout
        }
        RunOutcome::LimitHit { limit } => {
            notes.push(format!("stopped by the {limit} limit"));
            SuiteStatus::Error
        }
        RunOutcome::Error { message } => {
            notes.push(format!("could not run: {message}"));
            SuiteStatus::Error
        }
        RunOutcome::Finished { .. } if !run.parsed.complete => {
            notes.push("its output ended before all of its tests reported".to_string());
            SuiteStatus::Error
        }
        RunOutcome::Finished { .. } if run.parsed.has_failure() => SuiteStatus::Fail,
        RunOutcome::Finished { .. } => SuiteStatus::Pass,
    };
    notes.extend(run.parsed.problems.iter().cloned());
    (status, notes)
}

/// What one commit's attempts said about one test.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    pass: bool,
    fail: bool,
}

impl Seen {
    /// What every test said across `runs`, by name, in one pass: looking
    /// each name up in each run would cost tests² on suites of thousands.
    fn by_name(runs: &[SuiteRun]) -> HashMap<&str, Seen> {
        let mut seen: HashMap<&str, Seen> = HashMap::new();
        for r in runs {
            for t in &r.parsed.tests {
                let entry = seen.entry(t.name.as_str()).or_default();
                match t.status {
                    Status::Pass => entry.pass = true,
                    Status::Fail => entry.fail = true,
                    Status::Skip => {}
                }
            }
        }
        seen
    }

    fn mixed(self) -> bool {
        self.pass && self.fail
    }

    fn has_verdict(self) -> bool {
        self.pass || self.fail
    }
}

/// Classes every test any series attempt reported, in first-seen order.
///
/// Rules, first match wins:
/// 1. mixed pass/fail on the base or across series attempts, or a flaky
///    history when the test failed somewhere → `flaky`;
/// 2. no pass or fail on the base (absent, or skipped there) → `new`;
/// 3. fails with the series (every attempt), passes on base → `regression`;
/// 4. fails on both → `pre-existing`;
/// 5. fails on base, passes with series → `fixed`;
/// 6. otherwise → `ok`.
///
/// A new test that fails on one attempt and passes on a retry is `flaky`
/// under rule 1: flakiness is never blamed, even on a test the series adds.
pub fn classify(
    base: &[SuiteRun],
    series: &[SuiteRun],
    history: &History,
    threshold: FlakeThreshold,
) -> Vec<TestReport> {
    let mut order: Vec<(&str, Status, Option<&str>)> = Vec::new();
    let mut known: BTreeSet<&str> = BTreeSet::new();
    for run in series {
        for t in &run.parsed.tests {
            if known.insert(t.name.as_str()) {
                order.push((t.name.as_str(), t.status, t.detail.as_deref()));
            }
        }
    }
    let on_base = Seen::by_name(base);
    let on_series = Seen::by_name(series);
    order
        .into_iter()
        .map(|(name, status, detail)| {
            let b = on_base.get(name).copied().unwrap_or_default();
            let s = on_series.get(name).copied().unwrap_or_default();
            let failed_somewhere = b.fail || s.fail;
            let class = if b.mixed()
                || s.mixed()
                || (failed_somewhere && threshold.is_flaky(history, name))
            {
                Class::Flaky
            } else if !b.has_verdict() {
                Class::New
            } else if s.fail && b.pass {
                Class::Regression
            } else if s.fail {
                Class::PreExisting
            } else if s.pass && b.fail {
                Class::Fixed
            } else {
                Class::Ok
            };
            TestReport {
                name: name.to_string(),
                status,
                class,
                detail: detail.map(str::to_string),
            }
        })
        .collect()
}
