//! kvm-unit-tests `run_tests.sh` output to per-test results.
//!
//! The plain output has one line per test, printed by `scripts/runtime.bash`:
//! a coloured status word, the test name, and a parenthesised summary or
//! reason:
//!
//! ```text
//! PASS selftest-setup (2 tests)
//! FAIL pmu-cycle-counter (3 tests, 1 unexpected failures)
//! FAIL vmx (timeout; duration=90s)
//! SKIP pmu-overflow-interrupt (test marked as manual run only)
//! ```
//!
//! `run_tests.sh -t` prints TAP 13 instead (`ok N - test: detail`, plan at
//! the end); that output is recognised by its `TAP version` line and read
//! by the TAP parser.

use crate::tap::parse_tap;
use crate::text::clean_line;
use crate::{make_unique, Parsed, Status, TestResult};

/// Reads kvm-unit-tests output, plain or TAP. Never fails; see [`Parsed`].
pub fn parse_kvm_unit_tests(text: &str) -> Parsed {
    let is_tap = text
        .lines()
        .any(|l| clean_line(l).trim_start().starts_with("TAP version"));
    if is_tap {
        return parse_tap(text);
    }
    let mut tests = Vec::new();
    for raw in text.lines() {
        if let Some(t) = parse_line(&clean_line(raw)) {
            tests.push(t);
        }
    }
    make_unique(&mut tests);
    // The plain format announces nothing up front, so a run is complete as
    // far as can be told once it has reported anything at all.
    let complete = !tests.is_empty();
    let problems = if complete {
        Vec::new()
    } else {
        vec!["no PASS, FAIL or SKIP lines in the kvm-unit-tests output".to_string()]
    };
    Parsed {
        tests,
        complete,
        problems,
    }
}

/// `STATUS name [(summary)]`; anything else (verbose command lines, build
/// chatter) is not a result.
fn parse_line(line: &str) -> Option<TestResult> {
    let line = line.trim();
    let (word, rest) = line.split_once(' ')?;
    let status = match word {
        "PASS" => Status::Pass,
        "FAIL" => Status::Fail,
        "SKIP" => Status::Skip,
        _ => return None,
    };
    let rest = rest.trim();
    let (name, summary) = match rest.split_once(' ') {
        Some((name, summary)) => (name, summary.trim()),
        None => (rest, ""),
    };
    if name.is_empty() {
        return None;
    }
    // A summary is in parentheses; other trailing text is not this format.
    let detail = match summary.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        Some(inner) => inner.to_string(),
        None if summary.is_empty() => String::new(),
        None => return None,
    };
    Some(TestResult::new(name, status).with_detail(detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, status, detail) of a parsed line.
    type Want = Option<(&'static str, Status, Option<&'static str>)>;

    #[test]
    fn result_lines() {
        let table: &[(&str, Want)] = &[
            (
                "\u{1b}[32mPASS\u{1b}[0m selftest-setup (2 tests)",
                Some(("selftest-setup", Status::Pass, Some("2 tests"))),
            ),
            (
                "FAIL pmu-cycle-counter (3 tests, 1 unexpected failures)",
                Some((
                    "pmu-cycle-counter",
                    Status::Fail,
                    Some("3 tests, 1 unexpected failures"),
                )),
            ),
            (
                "\u{1b}[33mSKIP\u{1b}[0m pmu-overflow-interrupt (test marked as manual run only)",
                Some((
                    "pmu-overflow-interrupt",
                    Status::Skip,
                    Some("test marked as manual run only"),
                )),
            ),
            (
                "FAIL vmx (timeout; duration=90s)",
                Some(("vmx", Status::Fail, Some("timeout; duration=90s"))),
            ),
            ("PASS x", Some(("x", Status::Pass, None))),
            ("PASSED x", None),
            ("PASS: report message", None),
            ("FAIL", None),
            ("SKIP a b c", None),
            ("TESTNAME=x TIMEOUT=90s ./arm/run arm/selftest.flat", None),
        ];
        for (line, want) in table {
            let got = parse_line(&clean_line(line));
            let got = got
                .as_ref()
                .map(|t| (t.name.as_str(), t.status, t.detail.as_deref()));
            assert_eq!(got, *want, "{line:?}");
        }
    }

    #[test]
    fn empty_output_is_incomplete() {
        let p = parse_kvm_unit_tests("run ./configure && make first. See ./configure -h\n");
        assert!(!p.complete);
        assert!(p.tests.is_empty());
        assert_eq!(p.problems.len(), 1);
    }

    #[test]
    fn tap_mode_goes_to_the_tap_parser() {
        let out = "TAP version 13\nok 1 - selftest-setup: smp: number of CPUs matches expectation\nnot ok 2 - pmu: cycle-counter: monotonic\n1..2\n";
        let p = parse_kvm_unit_tests(out);
        assert!(p.complete);
        assert_eq!(p.tests.len(), 2);
        assert_eq!(p.tests[1].status, Status::Fail);
    }
}
