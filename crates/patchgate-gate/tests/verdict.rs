//! Rules and verdicts: each rule's pass, fail and pending cases with the
//! reasons a submitter reads, and the verdict's pass condition.

use patchgate_gate::{
    judge, render_markdown, BranchConfig, BranchPolicy, Class, Outcome, Policy, RuleStatus,
    SuiteReport, SuiteStatus, TestReport, Trailer, VerdictInput, VerdictStatus,
};
use patchgate_results::Status;

fn suites() -> Vec<String> {
    vec!["build".into(), "unit".into()]
}

fn policy(requires: &[&str]) -> Policy {
    let req: Vec<String> = requires.iter().map(|s| s.to_string()).collect();
    let code = vec!["src/**".to_string()];
    let tests = vec!["tests/**".to_string()];
    let branches = [BranchConfig {
        name: "queue",
        from: Some("master"),
        requires: &req,
    }];
    Policy::new("calc", &suites(), &branches, Some((&code, &tests)))
        .expect("test policies are valid")
}

fn branch(requires: &[&str]) -> BranchPolicy {
    policy(requires).branches.remove(0)
}

fn test(name: &str, status: Status, class: Class) -> TestReport {
    TestReport {
        name: name.into(),
        status,
        class,
        detail: None,
    }
}

fn suite(name: &str, status: SuiteStatus, tests: Vec<TestReport>) -> SuiteReport {
    SuiteReport {
        name: name.into(),
        status,
        tests,
        notes: vec![],
        base_broken: None,
    }
}

fn green() -> Vec<SuiteReport> {
    vec![
        suite(
            "build",
            SuiteStatus::Pass,
            vec![test("build", Status::Pass, Class::Ok)],
        ),
        suite(
            "unit",
            SuiteStatus::Pass,
            vec![test("add", Status::Pass, Class::Ok)],
        ),
    ]
}

/// A trailer as its person gave it: a sign-off in the patch, anything else
/// in a reply that person sent.
fn trailer(name: &str, value: &str, patch: Option<u32>) -> Trailer {
    let email = value
        .split_once('<')
        .and_then(|(_, r)| r.split_once('>'))
        .map(|(e, _)| e.to_string());
    Trailer {
        name: name.into(),
        value: value.into(),
        from: email,
        patch,
        in_patch: name == "Signed-off-by",
    }
}

/// A trailer sent by someone else than the person it names.
fn claimed(name: &str, value: &str, sender: &str, patch: Option<u32>) -> Trailer {
    Trailer {
        from: Some(sender.into()),
        in_patch: false,
        ..trailer(name, value, patch)
    }
}

fn input() -> VerdictInput {
    VerdictInput {
        applied: true,
        apply_error: None,
        suites: green(),
        files_changed: vec!["src/calc.c".into(), "tests/calc.t".into()],
        trailers: vec![
            trailer("Signed-off-by", "Ann Author <ann@example.org>", Some(1)),
            trailer("Reviewed-by", "Rita Reviewer <rita@example.org>", None),
        ],
        patch_count: 1,
        authors: vec!["ann@example.org".into()],
    }
}

/// Applies `change` to a passing input and judges it; returns the rule named
/// `rule`'s status and reason, and the verdict.
fn check(
    requires: &[&str],
    rule: &str,
    change: impl FnOnce(&mut VerdictInput),
) -> (RuleStatus, String, VerdictStatus) {
    let mut i = input();
    change(&mut i);
    let v = judge(i, &branch(requires));
    let r = v.rules.iter().find(|r| r.name == rule).cloned();
    let r = r.unwrap_or_else(|| panic!("no rule {rule} in {:?}", v.rules));
    (r.status, r.reason, v.verdict)
}

#[test]
fn everything_met_passes() {
    let v = judge(
        input(),
        &branch(&[
            "build",
            "unit",
            "reviews >= 1",
            "includes-test",
            "signed-off",
        ]),
    );
    assert_eq!(v.verdict, VerdictStatus::Pass, "{:?}", v.rules);
    assert_eq!(v.outcome(), Outcome::Pass);
    assert_eq!(v.rules.len(), 6);
}

#[test]
fn rule_table() {
    use RuleStatus::{Fail, Pass, Pending};
    type Change = Box<dyn FnOnce(&mut VerdictInput)>;
    /// (case, requires, rule name, change to a passing input, status, reason)
    type Row = (
        &'static str,
        &'static [&'static str],
        &'static str,
        Change,
        RuleStatus,
        &'static str,
    );
    let table: Vec<Row> = vec![
        ("apply failure fails every suite", &["unit"], "unit",
            Box::new(|i| { i.applied = false; i.apply_error = Some("patch 2/3 does not apply at src/calc.c:12".into()); }),
            Fail, "not run: the series did not apply"),
        ("apply failure reason", &["unit"], "applies",
            Box::new(|i| { i.applied = false; i.apply_error = Some("conflict in src/calc.c".into()); }),
            Fail, "the series does not apply: conflict in src/calc.c; rebase it and post a new revision"),
        ("regression fails the suite", &["unit"], "unit",
            Box::new(|i| i.suites[1].tests.push(test("div", Status::Fail, Class::Regression))),
            Fail, "1 test regressed (pass on the base, fail with the series on every attempt): div"),
        ("failing new test fails the suite", &["unit"], "unit",
            Box::new(|i| i.suites[1].tests.push(test("mul", Status::Fail, Class::New))),
            Fail, "1 test the series adds fails: mul"),
        ("passing new test is fine", &["unit"], "unit",
            Box::new(|i| i.suites[1].tests.push(test("mul", Status::Pass, Class::New))),
            Pass, "2 passed"),
        ("pre-existing and flaky never blame", &["unit"], "unit",
            Box::new(|i| {
                i.suites[1].status = SuiteStatus::Fail;
                i.suites[1].tests.push(test("old", Status::Fail, Class::PreExisting));
                i.suites[1].tests.push(test("racy", Status::Fail, Class::Flaky));
            }),
            Pass, "1 passed, 1 failing on the base too (old), 1 flaky (racy); none of the failures is caused by the series"),
        ("timeout fails", &["unit"], "unit",
            Box::new(|i| { i.suites[1].status = SuiteStatus::Timeout; i.suites[1].notes = vec!["timed out after 5m".into()]; }),
            Fail, "unit timed out: timed out after 5m"),
        ("error fails", &["unit"], "unit",
            Box::new(|i| { i.suites[1].status = SuiteStatus::Error; i.suites[1].notes = vec!["its output ended before all of its tests reported".into()]; }),
            Fail, "unit did not run to its end: its output ended before all of its tests reported"),
        ("missing suite fails", &["unit"], "unit",
            Box::new(|i| { i.suites.pop(); }),
            Fail, "unit did not run"),
        ("no review yet is pending", &["reviews >= 1"], "reviews >= 1",
            Box::new(|i| i.trailers.retain(|t| t.name != "Reviewed-by")),
            Pending, "needs 1 review, has 0"),
        ("same reviewer twice counts once", &["reviews >= 2"], "reviews >= 2",
            Box::new(|i| i.trailers.push(trailer("Reviewed-by", "R. Reviewer <RITA@example.org>", Some(1)))),
            Pending, "needs 2 reviews, has 1"),
        ("review from a listed person", &["reviews >= 1 from [rita@example.org]"], "reviews >= 1 from [rita@example.org]",
            Box::new(|_| {}),
            Pass, "has 1 review from rita@example.org"),
        ("review from someone not listed", &["reviews >= 1 from [maz@kernel.org, \"Oliver Upton\"]"], "reviews >= 1 from [maz@kernel.org, \"Oliver Upton\"]",
            Box::new(|_| {}),
            Pending, "needs 1 review from maz@kernel.org or Oliver Upton, has 0"),
        ("listed by name", &["reviews >= 1 from [\"Rita Reviewer\"]"], "reviews >= 1 from [\"Rita Reviewer\"]",
            Box::new(|_| {}),
            Pass, "has 1 review from Rita Reviewer"),
        ("per-patch reviews name the short patch", &["reviews >= 1"], "reviews >= 1",
            Box::new(|i| {
                i.patch_count = 3;
                i.authors = vec!["ann@example.org".into(); 3];
                i.trailers = vec![
                    trailer("Reviewed-by", "A <a@x.org>", Some(1)),
                    trailer("Reviewed-by", "A <a@x.org>", Some(3)),
                ];
            }),
            Pending, "needs 1 review, has 0 (short on patch 2)"),
        ("acks count Acked-by only", &["acks >= 1"], "acks >= 1",
            Box::new(|i| i.trailers.push(trailer("Acked-by", "Maz <maz@kernel.org>", None))),
            Pass, "has 1 ack"),
        ("docs-only series passes includes-test", &["includes-test"], "includes-test",
            Box::new(|i| i.files_changed = vec!["docs/usage.md".into()]),
            Pass, "changes no code (only docs/usage.md)"),
        ("code without test fails includes-test", &["includes-test"], "includes-test",
            Box::new(|i| i.files_changed = vec!["src/calc.c".into(), "README".into()]),
            Fail, "changes src/calc.c but no file under tests/**; add or extend a test"),
        ("code with test passes", &["includes-test"], "includes-test",
            Box::new(|_| {}),
            Pass, "changes src/calc.c and the test tests/calc.t"),
        ("many code files are summarised", &["includes-test"], "includes-test",
            Box::new(|i| i.files_changed = (1..=7).map(|n| format!("src/f{n}.c")).collect()),
            Fail, "changes src/f1.c, src/f2.c, src/f3.c, src/f4.c, src/f5.c and 2 more but no file under tests/**; add or extend a test"),
        ("missing sign-off names the patch", &["signed-off"], "signed-off",
            Box::new(|i| { i.patch_count = 2; i.authors.push("ann@example.org".into()); }),
            Fail, "patch 2 has no Signed-off-by: line from its author; add one (git commit -s) to certify you may submit the change"),
        ("sign-off present", &["signed-off"], "signed-off",
            Box::new(|_| {}),
            Pass, "every patch is signed off by its author"),
        ("someone else's sign-off is not the author's", &["signed-off"], "signed-off",
            Box::new(|i| i.trailers = vec![trailer("Signed-off-by", "Mallory <mal@example.org>", Some(1))]),
            Fail, "patch 1 has no Signed-off-by: line from its author; add one (git commit -s) to certify you may submit the change"),
        ("the author's sign-off given in a reply is not in the patch", &["signed-off"], "signed-off",
            Box::new(|i| i.trailers = vec![Trailer { in_patch: false, ..trailer("Signed-off-by", "Ann Author <ann@example.org>", Some(1)) }]),
            Fail, "patch 1 has no Signed-off-by: line from its author; add one (git commit -s) to certify you may submit the change"),
        ("a review sent by someone else is a claim", &["reviews >= 1 from [trusted@example.org]"], "reviews >= 1 from [trusted@example.org]",
            Box::new(|i| i.trailers.push(claimed("Reviewed-by", "Trusted <trusted@example.org>", "mallory@example.org", None))),
            Pending, "needs 1 review from trusted@example.org, has 0 (not counted: a Reviewed-by counts only in a mail its reviewer sent, and trusted@example.org's was sent by mallory@example.org)"),
        ("the author's own review does not count", &["reviews >= 1"], "reviews >= 1",
            Box::new(|i| i.trailers = vec![trailer("Reviewed-by", "Ann Author <ann@example.org>", Some(1))]),
            Pending, "needs 1 review, has 0 (not counted: ann@example.org reviewing their own patch)"),
        ("a review carried in the patch by its author is a claim", &["reviews >= 1"], "reviews >= 1",
            Box::new(|i| i.trailers = vec![Trailer { in_patch: true, ..claimed("Reviewed-by", "Rita Reviewer <rita@example.org>", "ann@example.org", Some(1)) }]),
            Pending, "needs 1 review, has 0 (not counted: a Reviewed-by counts only in a mail its reviewer sent, and rita@example.org's was sent by ann@example.org)"),
        ("an ack sent by someone else is a claim", &["acks >= 1"], "acks >= 1",
            Box::new(|i| i.trailers.push(claimed("Acked-by", "Maz <maz@kernel.org>", "maz@kernel.org.evil.example", None))),
            Pending, "needs 1 ack, has 0 (not counted: an Acked-by counts only in a mail its reviewer sent, and maz@kernel.org's was sent by maz@kernel.org.evil.example)"),
    ];
    for (case, requires, rule, change, status, reason) in table {
        let (got_status, got_reason, verdict) = check(requires, rule, change);
        assert_eq!(
            (got_status, got_reason.as_str()),
            (status, reason),
            "{case}"
        );
        let want_verdict = if status == Pass {
            VerdictStatus::Pass
        } else {
            VerdictStatus::Fail
        };
        if rule != "applies" && !case.starts_with("apply") {
            assert_eq!(verdict, want_verdict, "{case}");
        }
    }
}

#[test]
fn pending_review_is_fail_in_json_but_pending_outcome() {
    let mut i = input();
    i.trailers.retain(|t| t.name != "Reviewed-by");
    let v = judge(i, &branch(&["unit", "reviews >= 1"]));
    assert_eq!(v.verdict, VerdictStatus::Fail);
    assert_eq!(v.outcome(), Outcome::Pending);
    let json = serde_json::to_value(&v).unwrap_or_default();
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["rules"][2]["status"], "pending");
    assert_eq!(json["rules"][2]["reason"], "needs 1 review, has 0");
    assert_eq!(json["suites"][1]["tests"][0]["class"], "ok");
}

#[test]
fn unrequired_suite_does_not_block() {
    let mut i = input();
    i.suites[0].status = SuiteStatus::Error;
    let v = judge(i, &branch(&["unit"]));
    assert_eq!(v.verdict, VerdictStatus::Pass);
}

#[test]
fn all_suites_policy_for_a_tree_without_branches() {
    let mut i = input();
    i.suites[0].status = SuiteStatus::Timeout;
    let v = judge(i, &BranchPolicy::all_suites("master", &suites()));
    assert_eq!(v.verdict, VerdictStatus::Fail);
    assert_eq!(v.outcome(), Outcome::Fail);
}

#[test]
fn policy_markdown_reads_as_sentences() {
    let md = render_markdown(&policy(&[
        "build",
        "reviews >= 1 from [maz@kernel.org]",
        "includes-test",
        "signed-off",
    ]));
    let want = "\
# Rules of the `calc` tree

## Branch `queue`

A series enters `queue` (fed from `master`) only when:

- it applies to the branch's base without conflicts;
- the `build` suite runs to its end (no error, timeout or limit) with no test that passed on the base failing on every retry, and no failing test the series adds;
- every patch has a `Reviewed-by:` from at least 1 person from one of: maz@kernel.org, each given in a mail that reviewer sent and none by the patch's author;
- a series that changes code (`src/**`) also adds or changes a test (`tests/**`); a series that touches no code, such as documentation only, is exempt;
- every patch carries its author's own `Signed-off-by:` line.

A test that already fails on the base commit, or that is flaky, never counts against a series.

To see what the gate will say before posting: `patchgate ingest` the series' mails (`git format-patch` output), then `patchgate test SERIES --branch queue`.
";
    assert_eq!(md, want);
}

#[test]
fn exit_code_suite_is_spoken_of_as_the_suite_not_as_one_test() {
    let reason = |status: Status, class: Class| {
        let verdict = judge(
            VerdictInput {
                applied: true,
                suites: vec![suite(
                    "build",
                    SuiteStatus::Fail,
                    vec![test("build", status, class)],
                )],
                ..VerdictInput::default()
            },
            &branch(&["build"]),
        );
        let rule = verdict
            .rules
            .iter()
            .find(|r| r.name == "build")
            .expect("build rule");
        (rule.status, rule.reason.clone())
    };
    assert_eq!(
        reason(Status::Fail, Class::Regression),
        (
            RuleStatus::Fail,
            "build fails with the series on every attempt and passes on the base".to_string()
        )
    );
    assert_eq!(
        reason(Status::Fail, Class::PreExisting),
        (
            RuleStatus::Pass,
            "build fails on the base too; not caused by the series".to_string()
        )
    );
    assert_eq!(
        reason(Status::Pass, Class::Ok),
        (RuleStatus::Pass, "build passed".to_string())
    );
}

#[test]
fn a_broken_base_neither_passes_nor_blames_the_series() {
    use patchgate_gate::{RuleStatus, SuiteReport};
    let mut i = input();
    i.suites = vec![SuiteReport {
        name: "build".into(),
        status: SuiteStatus::Fail,
        tests: vec![test("build", Status::Fail, Class::PreExisting)],
        notes: vec![],
        base_broken: Some("fails on the base".into()),
    }];
    let v = judge(i.clone(), &branch(&["build"]));
    let rule = v
        .rules
        .iter()
        .find(|r| r.name == "build")
        .expect("build rule");
    assert_eq!(rule.status, RuleStatus::Pending, "{rule:?}");
    assert!(
        rule.reason
            .starts_with("the base is broken: build fails on the base"),
        "{}",
        rule.reason
    );
    assert_eq!(v.verdict, VerdictStatus::Fail);
    assert_eq!(v.outcome(), Outcome::Pending);
    // Passing where the base fails is judged: the series fixes it.
    i.suites[0].status = SuiteStatus::Pass;
    i.suites[0].tests = vec![test("build", Status::Pass, Class::Fixed)];
    let v = judge(i, &branch(&["build"]));
    assert_eq!(v.verdict, VerdictStatus::Pass, "{:?}", v.rules);
}
