//! TAP behaviours pinned one by one: each case names the rule it checks.

use patchgate_results::{parse_tap, Status};

/// (case, input, expected (name, status) list, complete, number of problems)
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, Status)],
    bool,
    usize,
);

const CASES: &[Case] = &[
    (
        "plan at the end is as good as at the start",
        "ok 1 - a\nnot ok 2 - b\n1..2\n",
        &[("a", Status::Pass), ("b", Status::Fail)],
        true,
        0,
    ),
    (
        "no plan means the run may have stopped early",
        "ok 1 - a\n",
        &[("a", Status::Pass)],
        false,
        1,
    ),
    ("empty output is incomplete", "", &[], false, 1),
    ("skip-all plan", "1..0 # SKIP no /dev/kvm\n", &[], true, 0),
    (
        "unnumbered points are numbered in order",
        "1..2\nok - a\nok\n",
        &[("a", Status::Pass), ("test 2", Status::Pass)],
        true,
        0,
    ),
    (
        "more tests than planned is a problem",
        "1..1\nok 1 a\nok 2 b\n",
        &[("a", Status::Pass), ("b", Status::Pass)],
        false,
        1,
    ),
    (
        "kselftest program that crashes mid-plan reports its missing subtests",
        "1..1\n# selftests: kvm: t\n# 1..3\n# ok 1 x\nnot ok 1 selftests: kvm: t # exit=139\n",
        &[
            ("selftests: kvm: t", Status::Fail),
            ("selftests: kvm: t/x", Status::Pass),
            ("selftests: kvm: t/test 2", Status::Fail),
            ("selftests: kvm: t/test 3", Status::Fail),
        ],
        true,
        1,
    ),
    (
        "a block whose parent line never came becomes a failing parent",
        "1..1\n    # Subtest: mmu\n    1..1\n    ok 1 pte\n",
        &[("mmu", Status::Fail), ("mmu/pte", Status::Pass)],
        true,
        0,
    ),
    (
        "subtest header names a parent line without a description",
        "1..1\n    # Subtest: irq\n    1..1\n    ok 1 eoi\nok 1\n",
        &[("irq", Status::Pass), ("irq/eoi", Status::Pass)],
        true,
        0,
    ),
    (
        "a comment that starts with ok is not a result",
        "1..1\n# ok, starting\nok 1 a\n",
        &[("a", Status::Pass)],
        true,
        0,
    ),
    (
        "unclosed YAML block ends at the next unindented line",
        "1..2\nnot ok 1 a\n  ---\n  msg: x\nok 2 b\n",
        &[("a", Status::Fail), ("b", Status::Pass)],
        true,
        1,
    ),
    (
        "out of order numbers are noted, results kept",
        "1..2\nok 2 b\nok 1 a\n",
        &[("b", Status::Pass), ("a", Status::Pass)],
        true,
        2,
    ),
];

#[test]
fn tap_cases() {
    for (case, input, want, complete, problems) in CASES {
        let p = parse_tap(input);
        let got: Vec<_> = p
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.status))
            .collect();
        assert_eq!(got, *want, "{case}");
        assert_eq!(p.complete, *complete, "{case}: {:?}", p.problems);
        assert_eq!(p.problems.len(), *problems, "{case}: {:?}", p.problems);
    }
}

#[test]
fn crash_names_the_missing_tests() {
    let p = parse_tap("1..4\nok 1 a\nok 2 b\n");
    assert_eq!(
        p.problems,
        ["the plan 1..4 promised tests 3..4, which never reported"]
    );
}
