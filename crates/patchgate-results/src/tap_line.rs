//! One TAP line: its nesting depth and what kind of line it is.
//!
//! Kept apart from the block logic in `tap.rs` so each can be tested on its
//! own. Everything here is a plain function over one `&str`.

use crate::Status;

/// What one line (with its nesting prefix removed) says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// `TAP version 13`, `KTAP version 1`.
    Version,
    /// `1..N`, possibly with a `# SKIP` directive.
    Plan(u64),
    Point {
        ok: bool,
        number: Option<u64>,
        desc: &'a str,
        directive: Directive,
    },
    BailOut(&'a str),
    /// `# Subtest: NAME` (TAP14/KTAP), naming the block that follows.
    Subtest(&'a str),
    /// `---` opening a YAML diagnostic block.
    YamlStart,
    /// Comments, diagnostics and anything else: not part of the results.
    Other,
}

/// A test point's `# …` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Directive {
    None,
    Skip(String),
    Todo(String),
    /// kselftest's expected failure: the test behaved as expected.
    Xfail(String),
    /// Anything else after `#` (`TIMEOUT 45 seconds`, `exit=1`): kept as detail.
    Comment(String),
}

impl Directive {
    fn parse(text: &str) -> Directive {
        let text = text.trim();
        if text.is_empty() {
            return Directive::None;
        }
        let word: String = text
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_lowercase();
        let full = text.to_string();
        // TAP: "any word starting with skip/todo", case-insensitive.
        if word.starts_with("skip") {
            Directive::Skip(full)
        } else if word.starts_with("todo") {
            Directive::Todo(full)
        } else if word == "xfail" {
            Directive::Xfail(full)
        } else {
            Directive::Comment(full)
        }
    }

    /// The status of a test point with this directive, and its detail.
    pub(crate) fn status(self, ok: bool) -> (Status, Option<String>) {
        match self {
            Directive::None => (if ok { Status::Pass } else { Status::Fail }, None),
            Directive::Skip(d) => (Status::Skip, Some(d)),
            // A failing TODO is an expected failure, not a failure of the code.
            Directive::Todo(d) if !ok => (Status::Skip, Some(d)),
            Directive::Todo(d) => (Status::Pass, Some(d)),
            Directive::Xfail(d) | Directive::Comment(d) => {
                (if ok { Status::Pass } else { Status::Fail }, Some(d))
            }
        }
    }
}

/// Splits a line into its nesting depth and the rest.
///
/// Each four-space indent is one level (TAP14/KTAP); each `# ` is one level
/// only if what follows is structural TAP (kselftest's runner prefixes a
/// test program's output with `# `), since otherwise it is a comment.
pub(crate) fn split_depth(line: &str) -> (usize, &str) {
    let mut depth = 0;
    let mut rest = line;
    // The depth and rest just before the last `# ` was stripped, to fall back
    // on when the line turns out to be a comment.
    let mut before_hash: Option<(usize, &str)> = None;
    loop {
        if let Some(r) = rest.strip_prefix("    ") {
            depth += 1;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("# ") {
            before_hash = Some((depth, rest));
            depth += 1;
            rest = r;
        } else {
            break;
        }
    }
    match classify(rest) {
        Line::Other if before_hash.is_some() => {
            let (d, r) = before_hash.unwrap_or((0, line));
            (d, r)
        }
        Line::Point { number: None, .. } if before_hash.is_some() => {
            // kselftest always numbers its nested results; an unnumbered
            // "# ok …" is a comment that happens to start with "ok".
            let (d, r) = before_hash.unwrap_or((0, line));
            (d, r)
        }
        _ => (depth, rest),
    }
}

/// Classifies a line whose nesting prefix has been removed.
pub(crate) fn classify(line: &str) -> Line<'_> {
    let trimmed = line.trim_end();
    // TAP puts a YAML block two spaces deeper than its test point; an
    // unindented `---` is text, not the start of a block that would swallow
    // the following lines.
    if line.starts_with("  ") && trimmed.trim_start() == "---" {
        return Line::YamlStart;
    }
    if trimmed.starts_with("TAP version") || trimmed.starts_with("KTAP version") {
        return Line::Version;
    }
    if let Some(r) = strip_prefix_ci(trimmed, "bail out!") {
        return Line::BailOut(r);
    }
    if let Some(name) = trimmed.strip_prefix("# Subtest:") {
        return Line::Subtest(name.trim());
    }
    if let Some(count) = parse_plan(trimmed) {
        return Line::Plan(count);
    }
    parse_point(trimmed).unwrap_or(Line::Other)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// `1..N` optionally followed by `# directive`.
fn parse_plan(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("1..")?;
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let count: u64 = rest.get(..digits)?.parse().ok()?;
    let tail = rest.get(digits..)?.trim();
    (tail.is_empty() || tail.starts_with('#')).then_some(count)
}

/// `ok|not ok [N] [-] [description] [# directive]`.
fn parse_point(line: &str) -> Option<Line<'_>> {
    let (ok, rest) = if let Some(r) = line.strip_prefix("not ok") {
        (false, r)
    } else {
        (true, line.strip_prefix("ok")?)
    };
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim_start();
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let after_digits = rest.get(digits..).unwrap_or("");
    let (number, rest) =
        if digits > 0 && (after_digits.is_empty() || after_digits.starts_with([' ', '\t'])) {
            // An absurdly long number is not a number; keep the text as the name.
            match rest.get(..digits).and_then(|d| d.parse::<u64>().ok()) {
                Some(n) => (Some(n), after_digits),
                None => (None, rest),
            }
        } else {
            (None, rest)
        };
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix("- ")
        .or_else(|| (rest == "-").then_some(""))
        .unwrap_or(rest);
    let (desc, directive) = split_directive(rest);
    Some(Line::Point {
        ok,
        number,
        desc: desc.trim(),
        directive: Directive::parse(directive.unwrap_or("")),
    })
}

/// Splits at the first `#` not escaped as `\#`.
fn split_directive(s: &str) -> (&str, Option<&str>) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'#' => return (s.get(..i).unwrap_or(s), s.get(i + 1..)),
            _ => i += 1,
        }
    }
    (s, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_of_nesting_spellings() {
        let table: &[(&str, usize, &str)] = &[
            ("ok 1 - a", 0, "ok 1 - a"),
            ("    ok 1 - a", 1, "ok 1 - a"),
            ("        1..3", 2, "1..3"),
            ("# ok 1 test_x", 1, "ok 1 test_x"),
            ("# # ok 2 y", 2, "ok 2 y"),
            ("# selftests: kvm: foo", 0, "# selftests: kvm: foo"),
            ("# # totals: pass:1", 1, "# totals: pass:1"),
            ("# ok this is a comment", 0, "# ok this is a comment"),
            ("# TAP version 13", 1, "TAP version 13"),
            ("#     ok 1 k", 2, "ok 1 k"),
        ];
        for (line, depth, rest) in table {
            assert_eq!(split_depth(line), (*depth, *rest), "{line:?}");
        }
    }

    #[test]
    fn test_point_shapes() {
        let table: &[(&str, bool, Option<u64>, &str, Directive)] = &[
            ("ok 1 - add", true, Some(1), "add", Directive::None),
            ("not ok 2 sub", false, Some(2), "sub", Directive::None),
            ("ok", true, None, "", Directive::None),
            (
                "ok 3 # SKIP no kvm",
                true,
                Some(3),
                "",
                Directive::Skip("SKIP no kvm".into()),
            ),
            (
                "not ok 4 - x # TODO later",
                false,
                Some(4),
                "x",
                Directive::Todo("TODO later".into()),
            ),
            ("ok 5 - a \\# b", true, Some(5), "a \\# b", Directive::None),
            (
                "not ok 6 selftests: kvm: foo # exit=1",
                false,
                Some(6),
                "selftests: kvm: foo",
                Directive::Comment("exit=1".into()),
            ),
            (
                "ok 7 t # skipped: no",
                true,
                Some(7),
                "t",
                Directive::Skip("skipped: no".into()),
            ),
            (
                "ok 8 f # XFAIL known",
                true,
                Some(8),
                "f",
                Directive::Xfail("XFAIL known".into()),
            ),
            ("ok 12abc", true, None, "12abc", Directive::None),
        ];
        for (line, ok, number, desc, directive) in table {
            let want = Line::Point {
                ok: *ok,
                number: *number,
                desc,
                directive: directive.clone(),
            };
            assert_eq!(classify(line), want, "{line:?}");
        }
    }

    #[test]
    fn other_line_kinds() {
        assert_eq!(classify("1..5"), Line::Plan(5));
        assert_eq!(classify("1..0 # SKIP no tests"), Line::Plan(0));
        assert_eq!(classify("1..x"), Line::Other);
        assert_eq!(classify("TAP version 14"), Line::Version);
        assert_eq!(classify("KTAP version 1"), Line::Version);
        assert_eq!(classify("Bail out! disk full"), Line::BailOut(" disk full"));
        assert_eq!(classify("# Subtest: kvm"), Line::Subtest("kvm"));
        assert_eq!(classify("  ---"), Line::YamlStart);
        assert_eq!(classify("---"), Line::Other);
        assert_eq!(classify("okay"), Line::Other);
        assert_eq!(classify("# diag"), Line::Other);
    }

    #[test]
    fn directive_statuses() {
        assert_eq!(Directive::Todo("TODO".into()).status(false).0, Status::Skip);
        assert_eq!(Directive::Todo("TODO".into()).status(true).0, Status::Pass);
        assert_eq!(Directive::Skip("SKIP".into()).status(false).0, Status::Skip);
        assert_eq!(
            Directive::Comment("TIMEOUT".into()).status(false).0,
            Status::Fail
        );
    }
}
