//! The subject prefix grammar: `Re: [RFC PATCH kvm-unit-tests v3 02/11] title`.
//!
//! This module owns reading a decoded subject line into its parts. It knows
//! the reply markers (`Re:`, `Aw:`, `Fwd:`), the bracketed prefix groups that
//! git format-patch, Mercurial and list software write, and leaves the title.
//! It never looks at anything but the string it is given.

use serde::{Deserialize, Serialize};

/// A subject split into its bracketed prefix and its title.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// `Re:`, `RE:`, `Aw:`, `Fwd:`… stood before the prefix.
    pub reply: bool,
    /// `PATCH` (or `RFC` alone, `PATCHv2`, Mercurial's `[PATCH 1 of 2]`) was present.
    pub patch: bool,
    pub rfc: bool,
    pub resend: bool,
    /// `GIT PULL` was present.
    pub pull: bool,
    /// Revision number; 1 when the prefix names none.
    pub version: u32,
    /// `02` of `02/11`.
    pub index: Option<u32>,
    /// `11` of `02/11`.
    pub total: Option<u32>,
    /// Other prefix words, in order, as written: `kvm-unit-tests`, `net-next`.
    pub tags: Vec<String>,
    /// The subject after every prefix, whitespace folded.
    pub title: String,
}

/// The largest patch count (`i/N`) believed: far above any posted series,
/// low enough that listing a series' missing patches stays small. A subject
/// counting more, such as a hostile `[PATCH 1/4000000000]`, is read as one
/// unnumbered patch.
pub const MAX_COUNT: u32 = 100_000;

/// Parse a decoded subject. Total: any string gives a `Subject`.
pub fn parse(subject: &str) -> Subject {
    parse_noting(subject).0
}

/// [`parse`], and the `(i, N)` it did not believe for being over
/// [`MAX_COUNT`].
pub(crate) fn parse_noting(subject: &str) -> (Subject, Option<(u32, u32)>) {
    let mut over = None;
    let folded = fold_whitespace(subject);
    let mut out = Subject {
        version: 1,
        ..Subject::default()
    };
    let mut rest = folded.as_str();
    loop {
        rest = rest.trim_start();
        if let Some(after) = strip_reply_marker(rest) {
            out.reply = true;
            rest = after;
            continue;
        }
        if let Some(after_open) = rest.strip_prefix('[') {
            // A group without its closing bracket is title text, not prefix:
            // treating it as a prefix would swallow the whole subject.
            let Some(close) = after_open.find(']') else {
                break;
            };
            read_group(&after_open[..close], &mut out, &mut over);
            rest = &after_open[close + 1..];
            continue;
        }
        break;
    }
    // `[Patch 2/2]: title` is written by some mailers; the colon is not title.
    let rest = rest.trim_start();
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    out.title = rest.trim().to_string();
    (out, over)
}

/// Collapse every run of whitespace (folding included) into one space.
pub(crate) fn fold_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The text after one reply marker (`Re:`, `AW:`, `Fwd:`, `Re[2]:`), if the
/// string starts with one.
fn strip_reply_marker(s: &str) -> Option<&str> {
    const MARKERS: [&str; 5] = ["re", "aw", "fwd", "fw", "sv"];
    let colon = s.find(':')?;
    let head = &s[..colon];
    // `Re[2]:` and `Re(2):` count replies; the count itself is noise.
    let word = head
        .split_once(['[', '('])
        .map_or(head, |(w, _)| w)
        .trim_end();
    if word.len() < head.len() && !(head.ends_with(']') || head.ends_with(')')) {
        return None;
    }
    if MARKERS.iter().any(|m| word.eq_ignore_ascii_case(m)) {
        Some(&s[colon + 1..])
    } else {
        None
    }
}

/// Read the words of one bracketed group into `out`.
fn read_group(group: &str, out: &mut Subject, over: &mut Option<(u32, u32)>) {
    let mut count = |out: &mut Subject, a: u32, b: u32| {
        if a > MAX_COUNT || b > MAX_COUNT {
            *over = Some((a, b));
        } else {
            out.index = Some(a);
            out.total = Some(b);
        }
    };
    let words: Vec<&str> = group
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        let upper = word.to_ascii_uppercase();
        // Mercurial: `[PATCH 1 of 2]`.
        if let (Some(of), Some(total)) = (words.get(i + 1), words.get(i + 2)) {
            if of.eq_ignore_ascii_case("of") {
                if let (Some(a), Some(b)) = (number(word), number(total)) {
                    count(out, a, b);
                    i += 3;
                    continue;
                }
            }
        }
        if upper == "GIT"
            && words
                .get(i + 1)
                .is_some_and(|w| w.eq_ignore_ascii_case("PULL"))
        {
            out.pull = true;
            i += 2;
            continue;
        }
        if upper == "PULL" {
            out.pull = true;
        } else if upper == "RESEND" {
            out.resend = true;
        } else if let Some(v) = version_after(&upper, "PATCH") {
            out.patch = true;
            if let Some(v) = v {
                out.version = v;
            }
        } else if let Some(v) = version_after(&upper, "RFC") {
            out.rfc = true;
            out.patch = true;
            if let Some(v) = v {
                out.version = v;
            }
        } else if let Some(v) = upper.strip_prefix('V').and_then(number) {
            out.version = v;
        } else if let Some((a, b)) = word
            .split_once('/')
            .and_then(|(a, b)| Some((number(a)?, number(b)?)))
        {
            count(out, a, b);
        } else {
            out.tags.push(word.to_string());
        }
        i += 1;
    }
}

/// `PATCH` → `Some(None)`, `PATCHv3`/`PATCH-v3` → `Some(Some(3))`, anything
/// else → `None`. `upper` is already upper-cased.
fn version_after(upper: &str, keyword: &str) -> Option<Option<u32>> {
    let rest = upper.strip_prefix(keyword)?;
    if rest.is_empty() {
        return Some(None);
    }
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    rest.strip_prefix('V').and_then(number).map(Some)
}

/// A run of ASCII digits (leading zeros allowed) that fits a `u32`.
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_marker_needs_a_colon_right_after_the_word() {
        assert!(strip_reply_marker("Re: x").is_some());
        assert!(strip_reply_marker("Re[2]: x").is_some());
        assert!(strip_reply_marker("Revert: x").is_none());
        assert!(strip_reply_marker("Re x: y").is_none());
    }

    #[test]
    fn a_count_over_the_limit_is_not_believed() {
        let (s, over) = parse_noting("[PATCH 1/4000000000] x");
        assert_eq!(
            (s.index, s.total, over),
            (None, None, Some((1, 4_000_000_000)))
        );
        assert!(s.patch && s.tags.is_empty());
        let (s, over) = parse_noting("[PATCH 99999/99999] x");
        assert_eq!((s.index, s.total, over), (Some(99_999), Some(99_999), None));
    }

    #[test]
    fn unclosed_bracket_is_title() {
        let s = parse("[PATCH broken");
        assert!(!s.patch);
        assert_eq!(s.title, "[PATCH broken");
    }
}
