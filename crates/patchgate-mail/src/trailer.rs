//! Trailers: `Reviewed-by: A <a@b>` lines, and b4's `base-commit:`/`change-id:`.
//!
//! This module owns reading trailers from decoded text. A patch's trailers are
//! the last paragraph of its commit message when that paragraph is a trailer
//! block; a reply's trailers are known review trailers on any unquoted line.
//! A quoted line (`>`) never yields a trailer: it is someone else's text.

use crate::{Person, Trailer};

/// Trailers that a reply may give for the patch it answers. `Signed-off-by`
/// is absent on purpose: in a reply it is a sign-off on nothing, not a review.
pub const REVIEW_TRAILERS: [&str; 7] = [
    "Reviewed-by",
    "Acked-by",
    "Tested-by",
    "Reported-by",
    "Suggested-by",
    "Fixes",
    "Link",
];

/// `signed-OFF-By` → `Signed-off-by`, `CC` → `Cc`: git's own spelling, so
/// that the same trailer written two ways compares equal.
pub fn canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Split `Name: value` when `Name` is a trailer token (letters, digits and
/// dashes, starting with a letter) and the value is not empty.
pub fn split_trailer(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let value = value.trim();
    let first = name.chars().next()?;
    let token = first.is_ascii_alphabetic()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !token || value.is_empty() {
        return None;
    }
    Some((name, value))
}

/// Split git's in-body headers (`From:`, `Subject:`, `Date:` lines at the
/// very top of a commit message, ended by a blank line) from the rest. `git am`
/// takes the patch's author from such a `From:`; they are not trailers.
pub fn in_body_headers(message: &str) -> (Vec<(&str, &str)>, &str) {
    let mut headers = Vec::new();
    let mut offset = 0;
    for line in message.split_inclusive('\n') {
        let text = line.trim_end();
        if text.is_empty() {
            if headers.is_empty() {
                return (headers, message);
            }
            return (headers, &message[offset + line.len()..]);
        }
        match split_trailer(text) {
            Some((name, value))
                if ["From", "Subject", "Date"]
                    .iter()
                    .any(|h| name.eq_ignore_ascii_case(h)) =>
            {
                headers.push((name, value));
            }
            _ => break,
        }
        offset += line.len();
    }
    if !headers.is_empty() && offset == message.len() {
        return (headers, "");
    }
    (Vec::new(), message)
}

/// `Name <addr>` (or a bare address) as a [`Person`], for trailer values and
/// in-body `From:` lines. The name is unquoted; the domain lower-cased.
pub fn person(value: &str) -> Person {
    let value = value.trim();
    let (name, email) = match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => (&value[..open], &value[open + 1..close]),
        _ if value.contains('@') && !value.contains(char::is_whitespace) => ("", value),
        _ => (value, ""),
    };
    let name = name.trim().trim_matches('"').trim();
    let email = match email.trim().rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => email.trim().to_string(),
    };
    Person {
        name: name.to_string(),
        email,
    }
}

/// Names whose lines fill their own fields instead of the trailer list.
fn is_b4_marker(name: &str) -> bool {
    name.eq_ignore_ascii_case("base-commit") || name.eq_ignore_ascii_case("change-id")
}

/// The trailers of a commit message: its last paragraph, when that paragraph
/// reads as a trailer block. Indented lines continue the trailer above;
/// `[note]` lines (maintainers' change notes) are allowed and skipped.
pub fn parse_block(message: &str) -> Vec<Trailer> {
    let (_, message) = in_body_headers(message);
    let lines: Vec<&str> = message.lines().map(str::trim_end).collect();
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    let start = lines[..end]
        .iter()
        .rposition(|l| l.is_empty())
        .map_or(0, |i| i + 1);
    let block = &lines[start..end];
    let fenced = fenced_lines(&lines[..end]);
    let mut trailers: Vec<Trailer> = Vec::new();
    let mut other = 0usize;
    for (k, line) in block.iter().enumerate() {
        // A code block quoting a commit shows its trailers, which are
        // nobody's word here.
        if fenced[start + k] {
            other += 1;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match trailers.last_mut() {
                Some(last) => {
                    last.value.push(' ');
                    last.value.push_str(line.trim());
                }
                None => other += 1,
            }
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            continue;
        }
        match split_trailer(line) {
            Some((name, value)) if !is_b4_marker(name) => trailers.push(Trailer {
                name: canonical_name(name),
                value: value.to_string(),
            }),
            Some(_) => {}
            None => other += 1,
        }
    }
    // git's own rule of thumb: a paragraph that is mostly prose is not a
    // trailer block even if one line happens to look like `Word: text`.
    if trailers.is_empty() || other * 3 > trailers.len() {
        return Vec::new();
    }
    trailers
}

/// Known review trailers written anywhere in a reply, on unquoted lines only.
/// Reading stops at the signature, the list footer or a forwarded original,
/// because what follows them is not the replier's word.
pub fn parse_reply(text: &str) -> Vec<Trailer> {
    let mut out: Vec<Trailer> = Vec::new();
    let mut fence: Option<&str> = None;
    for line in text.lines() {
        let line = line.trim_end();
        if is_end_of_own_text(line) {
            break;
        }
        if step_fence(&mut fence, line) || fence.is_some() {
            continue;
        }
        if line.starts_with('>') {
            continue;
        }
        let Some((name, value)) = split_trailer(line) else {
            continue;
        };
        let name = canonical_name(name);
        if !REVIEW_TRAILERS.contains(&name.as_str()) || !plausible_value(&name, value) {
            continue;
        }
        let trailer = Trailer {
            name,
            value: value.to_string(),
        };
        if !out.contains(&trailer) {
            out.push(trailer);
        }
    }
    out
}

/// Follows Markdown-style code fences (```` ``` ```` or `~~~`, at most three
/// spaces in): returns true when `line` opens or closes one, updating
/// `fence` to the open fence's marker.
fn step_fence<'a>(fence: &mut Option<&'a str>, line: &'a str) -> bool {
    let t = line.trim_start_matches(' ');
    if line.len() - t.len() > 3 {
        return false;
    }
    let marker = if t.starts_with("```") {
        "```"
    } else if t.starts_with("~~~") {
        "~~~"
    } else {
        return false;
    };
    match fence {
        Some(open) if *open == marker => *fence = None,
        Some(_) => return false,
        None => *fence = Some(marker),
    }
    true
}

/// For each line, whether it lies in a code fence (fence lines included).
fn fenced_lines(lines: &[&str]) -> Vec<bool> {
    let mut fence = None;
    lines
        .iter()
        .map(|l| step_fence(&mut fence, l) || fence.is_some())
        .collect()
}

/// Lines after which a mail's text is no longer its author's own words.
pub(crate) fn is_end_of_own_text(line: &str) -> bool {
    line == "--"
        || line == "-- "
        || line.starts_with("_______________________________________________")
        || line.contains("-----Original Message-----")
}

/// Prose such as `Reviewed-by: is missing here` must not count as a review:
/// a person trailer names an address, `Fixes` a commit, `Link` a URL.
fn plausible_value(name: &str, value: &str) -> bool {
    match name {
        "Fixes" => {
            let hex = value.bytes().take_while(u8::is_ascii_hexdigit).count();
            hex >= 8
        }
        "Link" => value.starts_with("http://") || value.starts_with("https://"),
        _ => value.contains('@'),
    }
}

/// The first unquoted `base-commit:` and `change-id:` values in `text`.
/// b4 writes them after the diff or the signature, so the whole text counts.
pub fn b4_markers(text: &str) -> (Option<String>, Option<String>) {
    // Most mail carries neither marker: rule that out with one SIMD pass
    // over the colons, each checked against the two names in any case.
    let bytes = text.as_bytes();
    let named = |end: usize, name: &[u8]| {
        end >= name.len() && bytes[end - name.len()..end].eq_ignore_ascii_case(name)
    };
    let maybe = memchr::memchr_iter(b':', bytes)
        .any(|colon| named(colon, b"base-commit") || named(colon, b"change-id"));
    if !maybe {
        return (None, None);
    }
    let mut base = None;
    let mut change = None;
    for line in text.lines() {
        let Some((name, value)) = split_trailer(line.trim_end()) else {
            continue;
        };
        let value = value.split_whitespace().next().unwrap_or(value);
        if base.is_none() && name.eq_ignore_ascii_case("base-commit") {
            base = Some(value.to_string());
        } else if change.is_none() && name.eq_ignore_ascii_case("change-id") {
            change = Some(value.to_string());
        }
        if base.is_some() && change.is_some() {
            break;
        }
    }
    (base, change)
}

#[cfg(test)]
mod tests {

    #[test]
    fn trailers_in_code_fences_are_nobodys_word() {
        let reply = "Looks like this landed as:\n\n```\ncommit 123\n\nReviewed-by: Trusted <t@example.org>\n```\n\n~~~\nAcked-by: Other <o@example.org>\n~~~\nTested-by: Me <me@example.org>\n";
        let got = parse_reply(reply);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].name, "Tested-by");
        let message = "subject\n\nbody\n\n```\nReviewed-by: Trusted <t@example.org>\n```\n";
        assert!(parse_block(message).is_empty());
        let message = "subject\n\nbody\n\nSigned-off-by: Ann <ann@example.org>\n";
        assert_eq!(parse_block(message).len(), 1);
    }

    use super::*;

    #[test]
    fn b4_markers_are_found_in_any_capitalisation() {
        let (base, change) = b4_markers("x\n\nBase-commiT: abc123\nCHANGE-ID: 2024-w\n");
        assert_eq!(base.as_deref(), Some("abc123"));
        assert_eq!(change.as_deref(), Some("2024-w"));
        assert_eq!(b4_markers("time: 10:00, id: 7\n"), (None, None));
    }

    #[test]
    fn canonical_name_follows_git_spelling() {
        assert_eq!(canonical_name("signed-OFF-By"), "Signed-off-by");
        assert_eq!(canonical_name("CC"), "Cc");
        assert_eq!(canonical_name("co-developed-by"), "Co-developed-by");
    }

    #[test]
    fn prose_paragraph_is_not_a_trailer_block() {
        let msg = "Subject line\n\nThis fixes it.\nNote: the old code was wrong.\nIt did x.\n";
        assert!(parse_block(msg).is_empty());
    }

    #[test]
    fn block_with_continuation_and_note() {
        let msg = "Fix.\n\nFixes: abcdef012345 (\"a very long\n  title\")\n[maz: reworded]\nSigned-off-by: A <a@b>\n";
        let t = parse_block(msg);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].value, "abcdef012345 (\"a very long title\")");
    }

    #[test]
    fn person_reads_name_and_address() {
        let p = person("\"Doe, J\" <J@Example.ORG>");
        assert_eq!(
            (p.name.as_str(), p.email.as_str()),
            ("Doe, J", "J@example.org")
        );
        assert_eq!(person("a@b").email, "a@b");
    }

    #[test]
    fn in_body_from_is_not_a_trailer() {
        assert!(parse_block("From: A <a@x>\n").is_empty());
        let (h, rest) =
            in_body_headers("From: A <a@x>\nDate: today\n\nFix.\n\nSigned-off-by: A <a@x>");
        assert_eq!(h, [("From", "A <a@x>"), ("Date", "today")]);
        assert_eq!(rest, "Fix.\n\nSigned-off-by: A <a@x>");
        assert_eq!(
            parse_block("From: A <a@x>\n\nFix.\n\nSigned-off-by: A <a@x>").len(),
            1
        );
    }

    #[test]
    fn reply_ignores_quoted_and_sign_off_and_prose() {
        let text = "> Reviewed-by: Q <q@x>\nSigned-off-by: S <s@x>\nReviewed-by: is missing\nAcked-by: A <a@x>\n";
        let t = parse_reply(text);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].name, "Acked-by");
    }
}
