//! JUnit XML reports to per-test results.
//!
//! The common shape: `<testsuites>` holding `<testsuite>`s (which may nest),
//! holding `<testcase name classname>` with an optional `<failure>`,
//! `<error>` or `<skipped>` child. A test's name is `classname.name` so the
//! same method in two classes stays two tests. A report that is not
//! well-formed XML keeps the results read before the damage and is marked
//! incomplete: a truncated file usually means the run was killed.

use crate::{make_unique, Parsed, Status, TestResult};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Longest failure text kept as a test's detail.
const MAX_DETAIL: usize = 4000;

/// The testcase being read.
#[derive(Debug)]
struct Case {
    result: TestResult,
    /// Collecting the text of a `<failure>`/`<error>`/`<skipped>` child.
    in_outcome: bool,
}

/// Reads a JUnit XML report. Never fails; see [`Parsed`].
pub fn parse_junit(xml: &str) -> Parsed {
    let mut reader = Reader::from_str(xml);
    let mut tests = Vec::new();
    let mut problems = Vec::new();
    let mut case: Option<Case> = None;
    let mut saw_root = false;
    let mut complete = true;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                saw_root |= is_junit_element(e.local_name().as_ref());
                match e.local_name().as_ref() {
                    b"testcase" => {
                        // A testcase never nests; an unclosed one is kept as read.
                        if let Some(c) = case.take() {
                            tests.push(c.result);
                        }
                        case = Some(Case {
                            result: testcase(&e),
                            in_outcome: false,
                        });
                    }
                    name => {
                        if let Some(c) = case.as_mut() {
                            c.in_outcome = outcome(&mut c.result, name, &e);
                        }
                    }
                }
            }
            Ok(Event::Empty(e)) => {
                saw_root |= is_junit_element(e.local_name().as_ref());
                match e.local_name().as_ref() {
                    b"testcase" => tests.push(testcase(&e)),
                    name => {
                        if let Some(c) = case.as_mut() {
                            outcome(&mut c.result, name, &e);
                        }
                    }
                }
            }
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                b"testcase" => {
                    if let Some(c) = case.take() {
                        tests.push(c.result);
                    }
                }
                b"failure" | b"error" | b"skipped" => {
                    if let Some(c) = case.as_mut() {
                        c.in_outcome = false;
                    }
                }
                _ => {}
            },
            Ok(Event::Text(t)) => {
                if let Some(c) = case.as_mut().filter(|c| c.in_outcome) {
                    let text = t.unescape().map(|s| s.into_owned()).unwrap_or_default();
                    append_detail(&mut c.result, &text);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(c) = case.as_mut().filter(|c| c.in_outcome) {
                    append_detail(&mut c.result, &String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                problems.push(format!(
                    "the JUnit report is not well-formed XML at byte {}: {e}",
                    reader.error_position()
                ));
                complete = false;
                break;
            }
        }
    }
    if let Some(c) = case.take() {
        tests.push(c.result);
        complete = false;
        problems.push("the JUnit report ends inside a testcase".to_string());
    }
    if !saw_root {
        complete = false;
        problems.push("the JUnit report has no testsuite or testcase element".to_string());
    }
    make_unique(&mut tests);
    Parsed {
        tests,
        complete,
        problems,
    }
}

fn is_junit_element(name: &[u8]) -> bool {
    matches!(name, b"testsuites" | b"testsuite" | b"testcase")
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .map(|a| {
            a.unescape_value()
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned())
        })
}

fn testcase(e: &BytesStart<'_>) -> TestResult {
    let name = attr(e, b"name").unwrap_or_default();
    let name = match attr(e, b"classname").filter(|c| !c.is_empty()) {
        Some(class) if !name.is_empty() => format!("{class}.{name}"),
        Some(class) => class,
        None if name.is_empty() => "unnamed testcase".to_string(),
        None => name,
    };
    TestResult::new(name, Status::Pass)
}

/// Applies a `<failure>`, `<error>` or `<skipped>` child; returns whether it
/// was one (so its text is collected as detail).
fn outcome(result: &mut TestResult, element: &[u8], e: &BytesStart<'_>) -> bool {
    let status = match element {
        b"failure" | b"error" => Status::Fail,
        // A skip never hides a failure reported for the same case.
        b"skipped" if result.status != Status::Fail => Status::Skip,
        b"skipped" => return true,
        _ => return false,
    };
    result.status = status;
    if let Some(msg) = attr(e, b"message").filter(|m| !m.is_empty()) {
        append_detail(result, &msg);
    }
    true
}

fn append_detail(result: &mut TestResult, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    let detail = result.detail.get_or_insert_with(String::new);
    if detail.len() >= MAX_DETAIL {
        return;
    }
    if !detail.is_empty() {
        detail.push('\n');
    }
    detail.push_str(text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testcase_outcomes() {
        let xml = r#"<?xml version="1.0"?>
<testsuites><testsuite name="s">
  <testcase classname="calc.Add" name="small"/>
  <testcase classname="calc.Add" name="big"><failure message="overflow">expected 4 got -4</failure></testcase>
  <testcase classname="calc.Sub" name="neg"><error message="segfault"/></testcase>
  <testcase name="noclass"><skipped message="no fpu"/></testcase>
  <testcase classname="calc.Add" name="small"><system-out>hi</system-out></testcase>
</testsuite></testsuites>"#;
        let p = parse_junit(xml);
        assert!(p.complete, "{:?}", p.problems);
        let got: Vec<_> = p
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.status, t.detail.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("calc.Add.small", Status::Pass, None),
                (
                    "calc.Add.big",
                    Status::Fail,
                    Some("overflow\nexpected 4 got -4")
                ),
                ("calc.Sub.neg", Status::Fail, Some("segfault")),
                ("noclass", Status::Skip, Some("no fpu")),
                ("calc.Add.small#2", Status::Pass, None),
            ]
        );
    }

    #[test]
    fn truncated_report_keeps_what_was_read() {
        let xml = r#"<testsuite><testcase classname="a" name="b"/><testcase classname="a" name="c"><failure>bo"#;
        let p = parse_junit(xml);
        assert!(!p.complete);
        assert_eq!(p.tests.len(), 2);
        assert_eq!(p.tests[1].status, Status::Fail);
    }

    #[test]
    fn empty_and_garbage() {
        for input in ["", "not xml at all", "<<<>>>"] {
            let p = parse_junit(input);
            assert!(!p.complete, "{input:?}");
            assert!(!p.problems.is_empty());
        }
    }
}
