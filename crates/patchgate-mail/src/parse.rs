//! One mail's bytes to a [`Message`]: headers, kind, commit message, diff.
//!
//! This module owns the glue between mail-parser (RFC 5322/2045/2047) and the
//! patch view of a mail. It reads identity and threading headers itself from
//! their raw bytes, because list mail is full of ids without brackets and
//! comments between them that a strict parser drops. It never fails: what is
//! wrong goes into [`Message::problems`].

use mail_parser::{HeaderName, MessageParser};
use sha2::{Digest, Sha256};

use crate::subject::{self, fold_whitespace};
use crate::{diff, mime, notice, trailer, Kind, Message, Person, Subject};

/// Parse one mail. Total: arbitrary bytes give a `Message`.
pub fn parse(raw: &[u8]) -> Message {
    let mut problems = Vec::new();
    // A single mbox entry or a `git format-patch` file starts with the
    // envelope line, which is not a header.
    let body_start = if raw.starts_with(b"From ") {
        memchr::memchr(b'\n', raw).map_or(raw.len(), |i| i + 1)
    } else {
        0
    };
    let bytes = &raw[body_start..];
    let Some(mail) = MessageParser::default().parse(bytes) else {
        return unusable(
            raw,
            "not a mail: no header or body could be read".to_string(),
        );
    };
    let Some(root) = mail.parts.first() else {
        return unusable(
            raw,
            "not a mail: no header or body could be read".to_string(),
        );
    };
    let raw_header = |name: &str| -> Option<String> {
        let h = root
            .headers
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case(name))?;
        let value = bytes.get(h.offset_start as usize..h.offset_end as usize)?;
        Some(String::from_utf8_lossy(value).into_owned())
    };
    let known = [
        "Message-ID",
        "From",
        "Subject",
        "Date",
        "In-Reply-To",
        "References",
    ];
    if !known.iter().any(|n| raw_header(n).is_some()) {
        return unusable(
            raw,
            "not a mail: none of Message-ID, From, Subject, Date, In-Reply-To, References is present"
                .to_string(),
        );
    }

    let (id, synthetic) = match raw_header("Message-ID").and_then(|v| ids(&v).into_iter().next()) {
        Some(id) => (id, false),
        None => {
            problems.push(
                "no usable Message-ID; a synthetic id derived from the bytes is used".to_string(),
            );
            (synthetic_id(raw), true)
        }
    };
    let in_reply_to = raw_header("In-Reply-To").and_then(|v| ids(&v).into_iter().next());
    let references = raw_header("References")
        .map(|v| ids(&v))
        .unwrap_or_default();
    let list_id = raw_header("List-Id").and_then(|v| list_id(&v));

    let from = match mail.from().and_then(|a| a.first()) {
        Some(addr) => {
            let person = person_of(addr);
            if person.email.is_empty() {
                problems.push("From header has no address".to_string());
            }
            person
        }
        None => {
            problems.push("no From header with an address".to_string());
            Person::default()
        }
    };
    let from = original_sender(from, || {
        let original = raw_header("X-Original-From").map(|v| trailer::person(&v));
        let listed = [mail.reply_to(), mail.cc()]
            .into_iter()
            .flatten()
            .flat_map(|a| a.iter())
            .map(person_of)
            .collect();
        (original, listed)
    });
    let date = match root.headers.iter().find(|h| h.name == HeaderName::Date) {
        None => {
            problems.push("no Date header".to_string());
            None
        }
        Some(h) => match h.value.as_datetime().filter(|d| d.is_valid()) {
            Some(d) => Some(d.to_timestamp()),
            None => {
                problems.push("Date header could not be read".to_string());
                None
            }
        },
    };
    let subject_text = fold_whitespace(mail.subject().unwrap_or(""));
    if subject_text.is_empty() {
        problems.push("no Subject".to_string());
    }
    let (prefix, over) = subject::parse_noting(&subject_text);
    if let Some((i, n)) = over {
        problems.push(format!(
            "the subject numbers this mail {i} of {n}, more than the {} patches a series is \
             believed to have; it is read as one unnumbered patch",
            subject::MAX_COUNT
        ));
    }

    let parts = mime::collect(&mail, &mut problems);
    let content = read_content(&parts, &prefix, in_reply_to.is_some());
    let (base_commit, change_id) = {
        let (mut base, mut change) = trailer::b4_markers(&parts.text);
        for p in &parts.patches {
            let (b, c) = trailer::b4_markers(p);
            base = base.or(b);
            change = change.or(c);
        }
        (base, change)
    };
    let files = content.diff.as_deref().map(diff::files).unwrap_or_default();

    Message {
        id,
        synthetic_id: synthetic,
        in_reply_to,
        references,
        from,
        date,
        subject: subject_text,
        list_id,
        prefix,
        kind: content.kind,
        body: content.body,
        trailers: content.trailers,
        diff: content.diff,
        files,
        base_commit,
        change_id,
        problems,
    }
}

fn person_of(addr: &mail_parser::Addr<'_>) -> Person {
    Person {
        name: addr
            .name
            .as_deref()
            .map(fold_whitespace)
            .unwrap_or_default(),
        email: addr
            .address
            .as_deref()
            .map(normalize_email)
            .unwrap_or_default(),
    }
}

/// The sender behind a From: a list rewrote for DMARC (Mailman's `Jane Doe
/// via Kvmarm <kvmarm@lists…>`, Google Groups' `'Jane Doe' via group`).
/// The list keeps the address in `X-Original-From`, or in `Reply-To` or
/// `Cc` under the same name, and patchwork reads it back from there;
/// `others` gives the first and the list of the others. Without either the
/// From stays as it is.
fn original_sender(from: Person, others: impl FnOnce() -> (Option<Person>, Vec<Person>)) -> Person {
    let Some((name, _list)) = from.name.rsplit_once(" via ") else {
        return from;
    };
    let name = name.trim().trim_matches('\'').trim();
    if name.is_empty() {
        return from;
    }
    let (original, listed) = others();
    let email = original
        .filter(|p| !p.email.is_empty())
        .or_else(|| {
            listed
                .into_iter()
                .find(|p| !p.email.is_empty() && p.name.eq_ignore_ascii_case(name))
        })
        .map(|p| normalize_email(&p.email));
    match email {
        Some(email) => Person {
            name: name.to_owned(),
            email,
        },
        None => from,
    }
}

/// The stable id given to a mail without Message-ID, derived from its bytes.
pub fn synthetic_id(raw: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(raw));
    format!("synthetic-{}@patchgate.invalid", &digest[..32])
}

/// A message too large to read: `head` is its first bytes, `size` its whole
/// length, `limit` the size it went over. Its header names it (Message-ID,
/// sender, date, subject) where the head holds one, so the reason can be
/// shown against the mail a user knows; nothing else of it is read, and it
/// is kept as [`Kind::Unusable`].
pub fn parse_oversize(head: &[u8], size: u64, limit: u64) -> Message {
    let named = parse(head);
    let reason = format!(
        "too large: {size} bytes, over the limit of {limit} bytes ({} MiB); only its first {} \
         bytes are kept and it is not read as mail (a patch mail is rarely over a few MiB: \
         ask for the change to be posted as a smaller series)",
        limit >> 20,
        head.len()
    );
    let mut message = unusable(head, reason);
    if named.kind != Kind::Unusable {
        message.id = named.id;
        message.synthetic_id = named.synthetic_id;
        message.from = named.from;
        message.date = named.date;
        message.subject = named.subject;
        message.list_id = named.list_id;
    }
    message
}

/// A message for bytes that are not a mail: kept, with its reason.
fn unusable(raw: &[u8], reason: String) -> Message {
    Message {
        id: synthetic_id(raw),
        synthetic_id: true,
        in_reply_to: None,
        references: Vec::new(),
        from: Person::default(),
        date: None,
        subject: String::new(),
        list_id: None,
        prefix: subject::parse(""),
        kind: Kind::Unusable,
        body: String::new(),
        trailers: Vec::new(),
        diff: None,
        files: Vec::new(),
        base_commit: None,
        change_id: None,
        problems: vec![reason],
    }
}

/// What the body of a mail says, by kind.
#[derive(Debug)]
struct Content {
    kind: Kind,
    body: String,
    trailers: Vec<crate::Trailer>,
    diff: Option<String>,
}

/// Decide the kind and cut the text into commit message and diff.
///
/// A `Re:` mail is a reply even when it carries a diff, as b4 and patchwork
/// see it: a diff in a reply is a suggestion under review, not a posting. A
/// `0/N` mail is a cover letter even with a diff, because
/// `format-patch --interdiff` puts one there. A diff in a bot's notice, a
/// release announcement or a bug report makes no patch (see `notice`).
fn read_content(parts: &mime::Parts, prefix: &Subject, threaded: bool) -> Content {
    // The subject alone makes replies, pull requests and cover letters,
    // whose diffs are not kept: a reply quoting a whole patch is not
    // searched for one.
    let by_subject = if prefix.reply {
        Some(Kind::Reply)
    } else if prefix.pull {
        Some(Kind::PullRequest)
    } else if prefix.index == Some(0) && !notice::tagged_announcement(prefix) {
        Some(Kind::Cover)
    } else {
        None
    };
    let (inline, attached) = match by_subject {
        Some(_) => (None, None),
        None => (
            diff::find(&parts.text),
            parts.patches.iter().find_map(|p| diff::find(p)),
        ),
    };
    let has_diff = inline.is_some() || attached.is_some();
    // An attached patch was sent as one on purpose; only an inline diff can
    // be a quote in a report.
    let before = match (&inline, &attached) {
        (Some(found), None) => Some(found.before),
        _ => None,
    };
    let kind = match by_subject {
        Some(kind) => kind,
        None if has_diff && !notice::not_a_posting(prefix, &parts.text, before) => Kind::Patch,
        None => Kind::Other,
    };
    let full_text = || {
        let text = if parts.text.trim().is_empty() {
            parts.html_fallback.as_deref().unwrap_or("")
        } else {
            parts.text.as_str()
        };
        strip_list_footer(text).trim_end().to_string()
    };
    match kind {
        Kind::Patch => {
            let (message, diff) = match (inline, attached) {
                (Some(found), _) => (commit_message(found.before), found.diff),
                (None, Some(found)) => {
                    // Commit message in the mail text, diff attached; or a
                    // whole format-patch file attached to an empty mail.
                    let message = if parts.text.trim().is_empty() {
                        commit_message(skip_embedded_headers(found.before))
                    } else {
                        commit_message(&parts.text)
                    };
                    (message, found.diff)
                }
                (None, None) => (full_text(), String::new()),
            };
            let trailers = trailer::parse_block(&message);
            Content {
                kind,
                body: message,
                trailers,
                diff: Some(diff).filter(|d| !d.is_empty()),
            }
        }
        // What the mail says of itself is discussion; the trailers of a
        // patch it quotes (a bot's notice, an announcement's delta) are
        // not its own.
        Kind::Other if has_diff => Content {
            kind,
            body: full_text(),
            trailers: Vec::new(),
            diff: None,
        },
        // A mail in a thread without `Re:` is still an answer to the thread.
        k if k == Kind::Reply || (k == Kind::Other && threaded) => {
            let body = full_text();
            Content {
                kind,
                trailers: trailer::parse_reply(&body),
                body,
                diff: None,
            }
        }
        _ => {
            let body = full_text();
            Content {
                kind,
                trailers: trailer::parse_block(&body),
                body,
                diff: None,
            }
        }
    }
}

/// git's patch break, as `git mailinfo` reads it: `---` alone or followed by
/// space.
pub(crate) fn is_patch_break(line: &str) -> bool {
    line.trim_end_matches(['\n', '\r'])
        .strip_prefix("---")
        .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
}

/// The text before git's patch break (`---` alone or followed by space, as
/// `git mailinfo` reads it), without leading and trailing blank lines.
fn commit_message(text: &str) -> String {
    let mut end = text.len();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if is_patch_break(line) {
            end = offset;
            break;
        }
        offset += line.len();
    }
    let message = text.get(..end).unwrap_or(text);
    let message = message.trim_end();
    message.trim_start_matches(['\n', '\r']).to_string()
}

/// An attached `git format-patch` file starts with its own envelope and
/// headers; the commit message starts after the first blank line.
fn skip_embedded_headers(text: &str) -> &str {
    let starts_like_mail = text.starts_with("From ")
        || text
            .lines()
            .next()
            .and_then(trailer::split_trailer)
            .is_some_and(|(name, _)| {
                ["From", "Subject", "Date"]
                    .iter()
                    .any(|h| name.eq_ignore_ascii_case(h))
            });
    if !starts_like_mail {
        return text;
    }
    text.find("\n\n")
        .and_then(|i| text.get(i + 2..))
        .unwrap_or(text)
}

/// Drop a mailman footer (`____…` line and the few lines under it) from the
/// end of a text.
fn strip_list_footer(text: &str) -> &str {
    let Some(at) = text.rfind("\n_______________________________________________") else {
        return text;
    };
    let tail = &text[at + 1..];
    if tail.lines().count() <= 8 {
        &text[..at + 1]
    } else {
        text
    }
}

/// The ids of a Message-ID/In-Reply-To/References value, without brackets,
/// in order. Text between bracketed ids (comments, names, dates) is skipped;
/// a value with no brackets at all is read as whitespace-separated ids.
fn ids(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            break;
        };
        let id: String = after[..close].split_whitespace().collect();
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
        rest = &after[close + 1..];
    }
    if out.is_empty() && !value.contains('<') {
        for word in value.split_whitespace() {
            if word.contains('@') && !out.iter().any(|o| o == word) {
                out.push(word.to_string());
            }
        }
    }
    out
}

/// `Description <list.example.org>` → `list.example.org`.
fn list_id(value: &str) -> Option<String> {
    match ids(value).into_iter().next() {
        Some(id) => Some(id),
        None => Some(value.trim().to_string())
            .filter(|v| !v.is_empty() && !v.contains(char::is_whitespace)),
    }
}

/// Lower-case the domain of an address; the local part is case-sensitive by
/// the letter of RFC 5321, so it is kept as written.
fn normalize_email(address: &str) -> String {
    let address = address.trim();
    match address.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_skip_garbage_between_brackets() {
        let v = " <a@b> (comment) junk\n\t<c@d>  <a@b> <e@\n f>";
        assert_eq!(ids(v), ["a@b", "c@d", "e@f"]);
    }

    #[test]
    fn ids_without_brackets_are_words_with_at() {
        assert_eq!(ids(" a@b c@d "), ["a@b", "c@d"]);
    }

    #[test]
    fn commit_message_stops_at_patch_break() {
        assert_eq!(
            commit_message("\nmsg\n\nS: x\n---\n f | 1\n"),
            "msg\n\nS: x"
        );
        assert_eq!(commit_message("msg\n----\nmore\n"), "msg\n----\nmore");
    }

    #[test]
    fn list_footer_is_dropped_from_text() {
        let t = "hi\n-- \nsig\n_______________________________________________\nlist\nhttps://x\n";
        assert_eq!(strip_list_footer(t), "hi\n-- \nsig\n");
    }

    #[test]
    fn synthetic_id_is_stable_and_marked() {
        let a = synthetic_id(b"x");
        assert_eq!(a, synthetic_id(b"x"));
        assert!(a.starts_with("synthetic-") && a.ends_with("@patchgate.invalid"));
        assert_eq!(
            a.len(),
            "synthetic-".len() + 32 + "@patchgate.invalid".len()
        );
    }
}
