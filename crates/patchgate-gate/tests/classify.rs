//! Baseline classes, one table row per rule: base attempts, series attempts
//! and history in, class out.

use patchgate_gate::{
    classify, judge_suite, Class, FlakeThreshold, History, RunOutcome, SuiteRun, SuiteStatus,
};
use patchgate_results::{Parsed, Status, TestResult};

use Status::{Fail as F, Pass as P, Skip as S};

/// A finished, complete run where test `t` has the given status (None: absent).
fn run(status: Option<Status>) -> SuiteRun {
    let mut tests = vec![TestResult::new("other", P)];
    tests.extend(status.map(|s| TestResult::new("t", s)));
    SuiteRun {
        outcome: RunOutcome::Finished { exit_code: Some(0) },
        parsed: Parsed {
            tests,
            complete: true,
            problems: vec![],
        },
    }
}

fn runs(statuses: &[Option<Status>]) -> Vec<SuiteRun> {
    statuses.iter().map(|s| run(*s)).collect()
}

#[test]
fn classes_table() {
    // (case, base attempts, series attempts, history (runs, commits with mixed results), class)
    type Row = (
        &'static str,
        &'static [Option<Status>],
        &'static [Option<Status>],
        Option<(u32, u32)>,
        Class,
    );
    let table: &[Row] = &[
        ("passes everywhere", &[Some(P)], &[Some(P)], None, Class::Ok),
        (
            "regression: passes on base, fails on every retry",
            &[Some(P)],
            &[Some(F), Some(F), Some(F)],
            None,
            Class::Regression,
        ),
        (
            "regression with a single attempt",
            &[Some(P)],
            &[Some(F)],
            None,
            Class::Regression,
        ),
        (
            "flaky: a series retry passes",
            &[Some(P)],
            &[Some(F), Some(P)],
            None,
            Class::Flaky,
        ),
        (
            "flaky: mixed on the base attempts",
            &[Some(P), Some(F)],
            &[Some(F), Some(F)],
            None,
            Class::Flaky,
        ),
        (
            "flaky: proven flaky on another commit",
            &[Some(P)],
            &[Some(F), Some(F)],
            Some((20, 1)),
            Class::Flaky,
        ),
        (
            "passing on many commits, failing on this one, is no excuse",
            &[Some(P)],
            &[Some(F)],
            Some((20, 0)),
            Class::Regression,
        ),
        (
            "no history says nothing",
            &[Some(P)],
            &[Some(F)],
            Some((0, 0)),
            Class::Regression,
        ),
        (
            "history of a passing test does not mark it",
            &[Some(P)],
            &[Some(P)],
            Some((20, 10)),
            Class::Ok,
        ),
        (
            "pre-existing: fails on both",
            &[Some(F)],
            &[Some(F), Some(F)],
            None,
            Class::PreExisting,
        ),
        (
            "fixed: fails on base, passes with series",
            &[Some(F)],
            &[Some(P)],
            None,
            Class::Fixed,
        ),
        (
            "new: not on the base",
            &[None],
            &[Some(P)],
            None,
            Class::New,
        ),
        (
            "new and failing",
            &[None],
            &[Some(F), Some(F)],
            None,
            Class::New,
        ),
        (
            "new and flaky is flaky",
            &[None],
            &[Some(F), Some(P)],
            None,
            Class::Flaky,
        ),
        (
            "skipped on the base counts as new",
            &[Some(S)],
            &[Some(F)],
            None,
            Class::New,
        ),
        (
            "skipped with the series is ok",
            &[Some(P)],
            &[Some(S)],
            None,
            Class::Ok,
        ),
        ("no base runs at all", &[], &[Some(F)], None, Class::New),
        (
            "absent from the first attempt, failing in a retry",
            &[Some(P)],
            &[None, Some(F)],
            None,
            Class::Regression,
        ),
    ];
    for (case, base, series, hist, want) in table {
        let mut history = History::new();
        if let Some(h) = hist {
            history.insert("t".to_string(), *h);
        }
        let got = classify(
            &runs(base),
            &runs(series),
            &history,
            FlakeThreshold::default(),
        );
        let t = got.iter().find(|t| t.name == "t");
        assert_eq!(t.map(|t| t.class), Some(*want), "{case}");
        let other = got.iter().find(|t| t.name == "other").map(|t| t.class);
        let other_want = if base.is_empty() {
            Class::New
        } else {
            Class::Ok
        };
        assert_eq!(other, Some(other_want), "{case}: the untouched test");
    }
}

#[test]
fn blame_only_for_regressions_and_failing_new_tests() {
    let series = runs(&[Some(F)]);
    let blamed = |base: &[Option<Status>]| {
        classify(
            &runs(base),
            &series,
            &History::new(),
            FlakeThreshold::default(),
        )
        .iter()
        .find(|t| t.name == "t")
        .map(|t| t.blames_series())
    };
    assert_eq!(blamed(&[Some(P)]), Some(true));
    assert_eq!(blamed(&[None]), Some(true));
    assert_eq!(blamed(&[Some(F)]), Some(false));
    assert_eq!(blamed(&[Some(P), Some(F)]), Some(false));
}

#[test]
fn status_shown_is_the_first_attempt() {
    let got = classify(
        &runs(&[Some(P)]),
        &runs(&[Some(F), Some(P)]),
        &History::new(),
        FlakeThreshold::default(),
    );
    let t = got.iter().find(|t| t.name == "t");
    assert_eq!(t.map(|t| (t.status, t.class)), Some((F, Class::Flaky)));
}

fn with_outcome(outcome: RunOutcome, complete: bool) -> SuiteRun {
    let mut r = run(Some(P));
    r.outcome = outcome;
    r.parsed.complete = complete;
    r
}

#[test]
fn suite_status_table() {
    let done = RunOutcome::Finished { exit_code: Some(0) };
    let table: &[(&str, SuiteRun, SuiteStatus)] = &[
        (
            "complete and passing",
            with_outcome(done.clone(), true),
            SuiteStatus::Pass,
        ),
        ("failing test", run(Some(F)), SuiteStatus::Fail),
        (
            "crash mid-plan",
            with_outcome(done.clone(), false),
            SuiteStatus::Error,
        ),
        (
            "timeout",
            with_outcome(RunOutcome::Timeout { limit: "5m".into() }, true),
            SuiteStatus::Timeout,
        ),
        (
            "memory limit",
            with_outcome(
                RunOutcome::LimitHit {
                    limit: "memory".into(),
                },
                true,
            ),
            SuiteStatus::Error,
        ),
        (
            "runner error",
            with_outcome(
                RunOutcome::Error {
                    message: "no such file".into(),
                },
                true,
            ),
            SuiteStatus::Error,
        ),
    ];
    for (case, series, want) in table {
        let report = judge_suite(
            "unit",
            &runs(&[Some(P)]),
            std::slice::from_ref(series),
            &History::new(),
            FlakeThreshold::default(),
        );
        assert_eq!(report.status, *want, "{case}");
    }
    let none = judge_suite("unit", &[], &[], &History::new(), FlakeThreshold::default());
    assert_eq!(none.status, SuiteStatus::Error);
}

#[test]
fn same_timeout_on_base_is_noted_but_still_timeout() {
    let t = with_outcome(RunOutcome::Timeout { limit: "5m".into() }, false);
    let report = judge_suite(
        "unit",
        std::slice::from_ref(&t),
        std::slice::from_ref(&t),
        &History::new(),
        FlakeThreshold::default(),
    );
    assert_eq!(report.status, SuiteStatus::Timeout);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("base commit ends the same way")),
        "{:?}",
        report.notes
    );
}

/// An exit-code suite's one run: its single test is named after the suite.
fn build_run(pass: bool) -> SuiteRun {
    SuiteRun {
        outcome: RunOutcome::Finished {
            exit_code: Some(if pass { 0 } else { 2 }),
        },
        parsed: Parsed {
            tests: vec![TestResult::new("build", if pass { P } else { F })],
            complete: true,
            problems: vec![],
        },
    }
}

#[test]
fn a_base_that_fails_a_build_is_no_reference_and_says_so() {
    let judged = |base: &[SuiteRun], series: &[SuiteRun]| {
        judge_suite(
            "build",
            base,
            series,
            &History::new(),
            FlakeThreshold::default(),
        )
    };
    let broken = judged(&[build_run(false), build_run(false)], &[build_run(false)]);
    assert_eq!(
        broken.base_broken.as_deref(),
        Some("fails on the base on all 2 attempts")
    );
    let fixed = judged(&[build_run(false)], &[build_run(true)]);
    assert_eq!(fixed.base_broken.as_deref(), Some("fails on the base"));
    assert_eq!(fixed.status, SuiteStatus::Pass);
    // A flaky base (one attempt passed) is a reference.
    let flaky = judged(&[build_run(false), build_run(true)], &[build_run(false)]);
    assert_eq!(flaky.base_broken, None);
    let crashed = judged(
        &[with_outcome(
            RunOutcome::Timeout { limit: "5m".into() },
            false,
        )],
        &[build_run(false)],
    );
    assert!(
        crashed
            .base_broken
            .as_deref()
            .is_some_and(|w| w.starts_with("does not run to its end on the base")),
        "{crashed:?}"
    );
    // A TAP suite with one known failing test on the base is a reference.
    let tap = judge_suite(
        "unit",
        &[run(Some(F))],
        &[run(Some(F))],
        &History::new(),
        FlakeThreshold::default(),
    );
    assert_eq!(tap.base_broken, None);
}
