//! Property tests: no input, however hostile, makes a parser panic, and every
//! result name stays unique (the baseline comparison depends on it).

use patchgate_results::{parse, parse_junit, parse_kvm_unit_tests, parse_tap, Format};
use proptest::prelude::*;
use std::collections::HashSet;

/// Lines built from TAP's own vocabulary, so the generator reaches the
/// nesting, plan and YAML paths far more often than random bytes would.
fn tap_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("ok".to_string()),
        Just("not ok".to_string()),
        Just("    ".to_string()),
        Just("# ".to_string()),
        Just("1..".to_string()),
        Just("  ---".to_string()),
        Just("...".to_string()),
        Just("Bail out!".to_string()),
        Just("# Subtest: s".to_string()),
        Just("TAP version 13".to_string()),
        Just(" # SKIP".to_string()),
        Just(" # TODO".to_string()),
        Just("\\#".to_string()),
        Just("\u{1b}[32m".to_string()),
        Just("PASS x (1 tests)".to_string()),
        "[0-9]{1,25}",
        " - [a-z ]{0,8}",
        Just("\n".to_string()),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn assert_unique(names: impl Iterator<Item = String>) {
    let mut seen = HashSet::new();
    for n in names {
        assert!(seen.insert(n.clone()), "duplicate name {n:?}");
    }
}

proptest! {
    #[test]
    fn tap_never_panics_on_tap_like_input(s in tap_like()) {
        let p = parse_tap(&s);
        assert_unique(p.tests.into_iter().map(|t| t.name));
    }

    #[test]
    fn tap_never_panics_on_any_text(s in any::<String>()) {
        let p = parse_tap(&s);
        assert_unique(p.tests.into_iter().map(|t| t.name));
    }

    #[test]
    fn kvm_unit_tests_never_panics(s in tap_like()) {
        let p = parse_kvm_unit_tests(&s);
        assert_unique(p.tests.into_iter().map(|t| t.name));
    }

    #[test]
    fn junit_never_panics(s in "(<testsuites?>|<testcase( classname=\"[a-z]\")?( name=\"[a-z&;]*\")?/?>|<failure( message=\"[^\"]*\")?/?>|</[a-z]+>|<!\\[CDATA\\[|\\]\\]>|<skipped/>|[a-z<>&\"]){0,40}") {
        let p = parse_junit(&s);
        assert_unique(p.tests.into_iter().map(|t| t.name));
    }

    #[test]
    fn any_bytes_any_format(bytes in prop::collection::vec(any::<u8>(), 0..400), code in any::<Option<i32>>()) {
        for f in [Format::ExitCode, Format::Tap, Format::KvmUnitTests, Format::Junit { path: "r.xml".into() }] {
            let _ = parse(&f, "suite", code, &bytes);
        }
    }
}

#[test]
fn huge_plan_does_not_allocate_every_missing_test() {
    let p = parse_tap("1..18446744073709551615\nok 1 - a\n");
    assert!(!p.complete);
    assert!(p.tests.len() <= 1001);
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let mut s = String::new();
    for depth in 0..5000 {
        s.push_str(&"    ".repeat(depth));
        s.push_str("ok 1 - x\n");
    }
    let deep = format!("{}ok 1 - deepest\n", "# ".repeat(100_000));
    let _ = parse_tap(&s);
    let _ = parse_tap(&deep);
}

#[test]
fn a_test_numbered_u64_max_before_an_orphan_block_does_not_overflow() {
    let parsed = parse_tap("ok 18446744073709551615 - a\n    ok 1 - x\n");
    assert!(!parsed.tests.is_empty());
}
