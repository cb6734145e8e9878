//! Suite output to per-test results (exit code, TAP/KTAP, kvm-unit-tests, JUnit): pure.
//!
//! This crate owns one question: given what a suite printed (or the report
//! file it wrote) and how it exited, which tests ran and how did each end?
//! It does no IO, reads no clock and never panics: every input, however
//! mangled, gives a [`Parsed`] value, and whatever looked wrong is said in
//! [`Parsed::problems`] rather than lost. Judging the results against a
//! baseline is `patchgate-gate`'s job, not this crate's.

mod junit;
mod kut;
mod tap;
mod tap_line;
mod text;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use junit::parse_junit;
pub use kut::parse_kvm_unit_tests;
pub use tap::parse_tap;

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    /// Not run, or run with an expected outcome that says nothing about the
    /// code (TAP `# SKIP`, a failing `# TODO`).
    Skip,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        })
    }
}

/// One test of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    /// Unique within its [`Parsed`]: nested tests are `parent/child`, a
    /// repeated name gets `#2`, `#3`, … so results can be matched by name
    /// across runs.
    pub name: String,
    pub status: Status,
    /// What the suite said about it: a skip reason, a failure message, a
    /// directive, the YAML diagnostics of a TAP test point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl TestResult {
    pub fn new(name: impl Into<String>, status: Status) -> Self {
        TestResult {
            name: name.into(),
            status,
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        self.detail = (!detail.is_empty()).then_some(detail);
        self
    }
}

/// Everything read from one run's output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parsed {
    pub tests: Vec<TestResult>,
    /// The output accounts for every test it announced: the TAP plan is
    /// satisfied, there was no `Bail out!`, the XML report is whole. A run
    /// that crashed half-way is not complete, even if what it printed passed.
    pub complete: bool,
    /// What looked wrong, in sentences for the person reading the report.
    pub problems: Vec<String>,
}

impl Parsed {
    /// Whether any test failed.
    pub fn has_failure(&self) -> bool {
        self.tests.iter().any(|t| t.status == Status::Fail)
    }

    /// Looks a test up by its (unique) name.
    pub fn get(&self, name: &str) -> Option<&TestResult> {
        self.tests.iter().find(|t| t.name == name)
    }
}

/// How a suite's output is read; the `format` key of a suite's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Format {
    /// One test named after the suite: pass iff the exit status is 0.
    ExitCode,
    /// TAP 13/14, KTAP and kselftest output on stdout.
    Tap,
    /// kvm-unit-tests `run_tests.sh` output, plain or `-t` (TAP).
    KvmUnitTests,
    /// A JUnit XML report the suite writes to `path` (relative to the worktree).
    Junit { path: String },
}

/// The configured format string is not one patchgate knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown test output format {given:?}: expected one of exit-code, tap, kvm-unit-tests, junit:PATH")]
pub struct FormatError {
    pub given: String,
}

impl FromStr for Format {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || FormatError {
            given: s.to_string(),
        };
        match s.trim() {
            "exit-code" => Ok(Format::ExitCode),
            "tap" => Ok(Format::Tap),
            "kvm-unit-tests" => Ok(Format::KvmUnitTests),
            other => match other.strip_prefix("junit:") {
                // A report path is required: without it there is nothing to read.
                Some(path) if !path.trim().is_empty() => Ok(Format::Junit {
                    path: path.trim().to_string(),
                }),
                _ => Err(err()),
            },
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::ExitCode => f.write_str("exit-code"),
            Format::Tap => f.write_str("tap"),
            Format::KvmUnitTests => f.write_str("kvm-unit-tests"),
            Format::Junit { path } => write!(f, "junit:{path}"),
        }
    }
}

// Serialised as the same string the configuration uses, so a stored suite
// fingerprint reads like the config it came from.
impl Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One test named after the suite, passing iff the suite exited with 0.
/// `None` means the process did not exit normally (killed by a signal).
pub fn parse_exit_code(suite: &str, exit_code: Option<i32>) -> Parsed {
    let (status, detail) = match exit_code {
        Some(0) => (Status::Pass, String::new()),
        Some(code) => (Status::Fail, format!("exited with status {code}")),
        None => (Status::Fail, "killed before it exited".to_string()),
    };
    Parsed {
        tests: vec![TestResult::new(suite, status).with_detail(detail)],
        complete: exit_code.is_some(),
        problems: Vec::new(),
    }
}

/// Reads one run's output in the given format.
///
/// `output` is the suite's stdout for text formats and the contents of the
/// report file for [`Format::Junit`] (reading that file is the caller's IO).
/// Bytes that are not UTF-8 are replaced, never rejected.
pub fn parse(format: &Format, suite: &str, exit_code: Option<i32>, output: &[u8]) -> Parsed {
    let text = String::from_utf8_lossy(output);
    let mut parsed = match format {
        Format::ExitCode => return parse_exit_code(suite, exit_code),
        Format::Tap => parse_tap(&text),
        Format::KvmUnitTests => parse_kvm_unit_tests(&text),
        Format::Junit { path } => {
            let mut p = parse_junit(&text);
            if output.is_empty() {
                p.problems
                    .push(format!("the JUnit report {path} is empty or missing"));
            }
            p
        }
    };
    // A non-zero exit with nothing failing is worth a word, but the tests
    // themselves are the evidence: many runners exit non-zero for skips.
    if let Some(code) = exit_code.filter(|c| *c != 0) {
        if !parsed.has_failure() {
            parsed.problems.push(format!(
                "the suite exited with status {code} although no test failed"
            ));
        }
    }
    if exit_code.is_none() && matches!(format, Format::Tap | Format::KvmUnitTests) {
        parsed
            .problems
            .push("the suite was killed before it exited".to_string());
        parsed.complete = false;
    }
    parsed
}

/// Makes every name unique in order of appearance: the second `x` becomes
/// `x#2`. Baseline comparison matches tests by name, so two results must never
/// share one.
pub(crate) fn make_unique(tests: &mut [TestResult]) {
    use std::collections::HashSet;
    let mut seen: HashSet<String> = HashSet::new();
    for t in tests.iter_mut() {
        if seen.insert(t.name.clone()) {
            continue;
        }
        let mut n = 2u64;
        loop {
            let candidate = format!("{}#{n}", t.name);
            if seen.insert(candidate.clone()) {
                t.name = candidate;
                break;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_parses_every_documented_form() {
        let table = [
            ("exit-code", Format::ExitCode),
            ("tap", Format::Tap),
            ("kvm-unit-tests", Format::KvmUnitTests),
            (
                "junit:out/report.xml",
                Format::Junit {
                    path: "out/report.xml".into(),
                },
            ),
        ];
        for (text, want) in table {
            assert_eq!(text.parse::<Format>(), Ok(want.clone()), "{text}");
            assert_eq!(want.to_string(), text);
        }
    }

    #[test]
    fn format_error_names_accepted_values() {
        for bad in ["TAP", "junit:", "junit", "xml", ""] {
            let err = bad.parse::<Format>().err();
            let msg = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                msg.contains("exit-code, tap, kvm-unit-tests, junit:PATH"),
                "{msg}"
            );
        }
    }

    #[test]
    fn exit_code_pass_fail_and_killed() {
        let p = parse_exit_code("build", Some(0));
        assert_eq!(p.tests, vec![TestResult::new("build", Status::Pass)]);
        assert!(p.complete);
        let p = parse_exit_code("build", Some(2));
        assert_eq!(p.tests[0].status, Status::Fail);
        assert_eq!(p.tests[0].detail.as_deref(), Some("exited with status 2"));
        let p = parse_exit_code("build", None);
        assert_eq!(p.tests[0].status, Status::Fail);
        assert!(!p.complete);
    }

    #[test]
    fn duplicates_are_numbered() {
        let mut t = vec![
            TestResult::new("a", Status::Pass),
            TestResult::new("a", Status::Fail),
            TestResult::new("a#2", Status::Pass),
            TestResult::new("a", Status::Pass),
        ];
        make_unique(&mut t);
        let names: Vec<_> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "a#2", "a#2#2", "a#3"]);
    }

    #[test]
    fn nonzero_exit_without_failure_is_a_problem() {
        let p = parse(&Format::Tap, "unit", Some(1), b"1..1\nok 1 - a\n");
        assert!(p.complete);
        assert_eq!(p.problems.len(), 1);
    }

    #[test]
    fn format_serialises_as_its_config_string() {
        let f = Format::Junit {
            path: "r.xml".into(),
        };
        let json = serde_json::to_string(&f).unwrap_or_default();
        assert_eq!(json, "\"junit:r.xml\"");
        let back: Result<Format, _> = serde_json::from_str(&json);
        assert_eq!(back.ok(), Some(f));
    }
}
