//! Render an am-ready mail from a parsed patch and the trailers collected for it.
//!
//! This module owns the one mail format patchgate writes for `git am`: what
//! `git format-patch` writes, an mbox entry of plain UTF-8 8bit text with no
//! `>From ` escaping, which plain `git am` reads. The diff is copied byte for
//! byte, so `git patch-id --stable` of the result equals that of the posted
//! mail.
//!
//! git mailsplit ends a message at any line that [`mbox::is_git_from_line`]
//! accepts, blank line before it or not, and undoes no escaping. A commit
//! message holding such a line (`From x Mon Sep 17 00:00:00 2001`), or one
//! that patchgate's own reader would take for an envelope, would be cut in
//! two, so that one mail's text is written quoted-printable, where the line
//! starts `=46rom ` and `git am` decodes it back byte for byte.

use mail_parser::DateTime;

use crate::{mbox, trailer, Message, Trailer};

/// An mbox entry (`From ` line included) that `git am` applies as the patch
/// with `extra` trailers appended to its commit message.
///
/// Extra trailers go after the existing ones, in the order given, skipping
/// any already present (same name, same value). Plain `git am` applies the
/// result; every line of the commit message comes out as it was.
pub fn render_am(message: &Message, extra: &[Trailer]) -> Vec<u8> {
    let mut out = String::new();
    let envelope: String = message.id.chars().filter(|c| !c.is_whitespace()).collect();
    out.push_str(&format!("From {envelope} Mon Sep 17 00:00:00 2001\n"));
    out.push_str(&format!(
        "From: {}\n",
        address(&message.from.name, &message.from.email)
    ));
    if let Some(date) = message.date {
        // Years beyond four digits cannot be written in RFC 5322.
        if (0..=253_402_300_799).contains(&date) {
            out.push_str(&format!(
                "Date: {}\n",
                DateTime::from_timestamp(date).to_rfc822()
            ));
        }
    }
    out.push_str(&format!("Subject: {}\n", encode_word(&subject(message))));
    out.push_str(&format!("Message-ID: <{envelope}>\n"));
    out.push_str("MIME-Version: 1.0\n");
    out.push_str("Content-Type: text/plain; charset=utf-8\n");

    let mut text = with_trailers(&message.body, extra).into_bytes();
    if let Some(diff) = &message.diff {
        text.extend_from_slice(b"---\n");
        text.extend_from_slice(diff.as_bytes());
        if !diff.ends_with('\n') {
            text.push(b'\n');
        }
    }
    let separator = text.split_inclusive(|&b| b == b'\n').any(mbox::may_split);
    let mut bytes = out.into_bytes();
    if separator {
        bytes.extend_from_slice(b"Content-Transfer-Encoding: quoted-printable\n\n");
        bytes.extend_from_slice(&quoted_printable(&text));
    } else {
        bytes.extend_from_slice(b"Content-Transfer-Encoding: 8bit\n\n");
        bytes.extend_from_slice(&text);
    }
    bytes
}

/// Quoted-printable without soft line breaks (git reads lines of any
/// length): `=`, control and non-ASCII bytes, whitespace at a line's end and
/// the `F` of a line starting `From ` are written `=XX`.
fn quoted_printable(text: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive(|&b| b == b'\n') {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        for (i, &b) in content.iter().enumerate() {
            let last = i + 1 == content.len();
            let encode = b == b'='
                || b >= 0x7f
                || (b < 0x20 && b != b'\t')
                || ((b == b' ' || b == b'\t') && last)
                || (i == 0 && content.starts_with(b"From "));
            if encode {
                out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            } else {
                out.push(b);
            }
        }
        if content.len() < line.len() {
            out.push(b'\n');
        }
    }
    out
}

/// `[PATCH vN i/N] title`; git am strips the bracket, the prefix only helps
/// a human reading the file.
fn subject(message: &Message) -> String {
    let p = &message.prefix;
    let title = if p.title.is_empty() {
        &message.subject
    } else {
        &p.title
    };
    let mut prefix = String::from("PATCH");
    if p.version > 1 {
        prefix.push_str(&format!(" v{}", p.version));
    }
    if let (Some(i), Some(n)) = (p.index, p.total) {
        prefix.push_str(&format!(" {i}/{n}"));
    }
    fold_line(&format!("[{prefix}] {title}"))
}

/// The commit message with `extra` trailers appended to its trailer block
/// (or a new block when it has none), newline-terminated.
fn with_trailers(body: &str, extra: &[Trailer]) -> String {
    let body = body.trim_end();
    let present = trailer::parse_block(body);
    let mut added: Vec<&Trailer> = Vec::new();
    for t in extra {
        let seen = |x: &&Trailer| {
            x.name.eq_ignore_ascii_case(&t.name)
                && x.value.trim().eq_ignore_ascii_case(t.value.trim())
        };
        if !present.iter().any(|x| seen(&x)) && !added.iter().any(seen) {
            added.push(t);
        }
    }
    let mut out = String::from(body);
    if !added.is_empty() {
        if present.is_empty() && !out.is_empty() {
            out.push_str("\n\n");
        } else if !out.is_empty() {
            out.push('\n');
        }
        let lines: Vec<String> = added
            .iter()
            .map(|t| {
                format!(
                    "{}: {}",
                    trailer::canonical_name(&t.name),
                    fold_line(&t.value)
                )
            })
            .collect();
        out.push_str(&lines.join("\n"));
    }
    out.push('\n');
    out
}

/// `Name <addr>`, quoting the name when it holds specials and encoding it
/// when it is not ASCII.
fn address(name: &str, email: &str) -> String {
    let name = fold_line(name);
    if name.is_empty() {
        return format!("<{email}>");
    }
    let shown = if !name.is_ascii() {
        encode_word(&name)
    } else if name.contains(|c: char| "()<>[]:;@\\,.\"".contains(c)) {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        name
    };
    format!("{shown} <{email}>")
}

/// A header value on one line: a newline there would end the header.
fn fold_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// RFC 2047 B-encoding for a non-ASCII header text, in words short enough for
/// a header line; ASCII text is returned as is.
fn encode_word(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        // 45 bytes of text become 60 of base64: the word stays under 75.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join("\n ")
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, value: &str) -> Trailer {
        Trailer {
            name: name.to_string(),
            value: value.to_string(),
        }
    }

    #[test]
    fn extra_trailers_follow_existing_ones_without_duplicates() {
        let body = "Fix it.\n\nSigned-off-by: A <a@x>";
        let out = with_trailers(
            body,
            &[t("Reviewed-by", "R <r@x>"), t("signed-off-by", "A <a@x>")],
        );
        assert_eq!(
            out,
            "Fix it.\n\nSigned-off-by: A <a@x>\nReviewed-by: R <r@x>\n"
        );
    }

    #[test]
    fn body_without_trailer_block_gets_a_new_paragraph() {
        assert_eq!(
            with_trailers("Fix it.", &[t("Acked-by", "B <b@x>")]),
            "Fix it.\n\nAcked-by: B <b@x>\n"
        );
    }

    #[test]
    fn quoted_printable_hides_from_lines_and_keeps_the_rest_readable() {
        assert_eq!(
            quoted_printable(b"From x Mon Sep 17 00:00:00 2001\na=b \n\xc3\xa9\n"),
            b"=46rom x Mon Sep 17 00:00:00 2001\na=3Db=20\n=C3=A9\n"
        );
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn name_with_comma_is_quoted_and_non_ascii_encoded() {
        assert_eq!(address("Doe, J.", "j@x"), "\"Doe, J.\" <j@x>");
        assert!(address("Jos\u{e9}", "j@x").starts_with("=?UTF-8?B?"));
    }
}
