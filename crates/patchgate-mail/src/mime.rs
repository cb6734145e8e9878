//! Walking a parsed mail's MIME parts: which text is the author's, which
//! attachment is a patch.
//!
//! This module owns the choice of parts; mail-parser has already undone the
//! transfer encodings (base64, quoted-printable) and the charsets. Text is
//! returned with LF line ends so that the diff and trailer readers see one
//! form of line.

use mail_parser::{MessagePart, MimeHeaders, PartType};

/// The parts of one mail that matter for patch flow.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    /// The inline `text/plain` parts, joined in order.
    pub text: String,
    /// Attachments that are patches (by type, by file name, or because a
    /// text attachment holds a diff), in order.
    pub patches: Vec<String>,
    /// An HTML-only mail's text, used as its body when nothing else exists.
    pub html_fallback: Option<String>,
}

/// Content types that mean "this attachment is a patch".
const PATCH_TYPES: [&str; 7] = [
    "text/x-patch",
    "text/x-diff",
    "text/patch",
    "text/diff",
    "application/x-patch",
    "application/x-diff",
    "text/x-csrc-patch",
];

/// Collect the text and patch parts of `mail`, noting decoding trouble in
/// `problems`.
pub(crate) fn collect(mail: &mail_parser::Message<'_>, problems: &mut Vec<String>) -> Parts {
    let mut parts = Parts::default();
    // Each inline text with its `format=flowed` DelSp, decoded once it is
    // known whether the mail carries a patch.
    let mut texts: Vec<(String, Option<bool>)> = Vec::new();
    let mut encoding_problem = false;
    for part in &mail.parts {
        encoding_problem |= part.is_encoding_problem;
        let ctype = content_type(part);
        let name = part.attachment_name().unwrap_or("").to_ascii_lowercase();
        let attachment = part
            .content_disposition()
            .is_some_and(|cd| cd.ctype().eq_ignore_ascii_case("attachment"));
        let named_patch = name.ends_with(".patch") || name.ends_with(".diff");
        let typed_patch = PATCH_TYPES.contains(&ctype.as_str());
        match &part.body {
            PartType::Text(text) => {
                let flow = flowed(part);
                let text = normalize(text);
                if ctype == "text/plain" && !attachment && !(named_patch || typed_patch) {
                    texts.push((text, flow));
                    continue;
                }
                let text = match flow {
                    Some(delsp) => crate::flowed::decode_like_git(&text, delsp),
                    None => text,
                };
                let is_patch = named_patch
                    || typed_patch
                    // A diff attached as `fix.txt` is still the patch.
                    || (ctype.starts_with("text/") && crate::diff::find(&text).is_some());
                if is_patch {
                    parts.patches.push(text);
                }
            }
            PartType::Binary(bytes) | PartType::InlineBinary(bytes)
                if named_patch || typed_patch =>
            {
                let text = match std::str::from_utf8(bytes) {
                    Ok(s) => normalize(s),
                    Err(_) => {
                        problems.push(format!(
                            "patch attachment {name:?} is not UTF-8; undecodable bytes replaced"
                        ));
                        normalize(&String::from_utf8_lossy(bytes))
                    }
                };
                parts.patches.push(text);
            }
            PartType::Html(html) if parts.html_fallback.is_none() => {
                parts.html_fallback = Some(normalize(html));
            }
            _ => {}
        }
    }
    if encoding_problem {
        problems.push("a MIME part could not be decoded as declared".to_string());
    }
    // The text of a mail with a patch attached is its commit message: read
    // as git reads it, like an inline patch.
    let attached = !parts.patches.is_empty();
    let texts: Vec<String> = texts
        .into_iter()
        .map(|(text, flow)| match flow {
            None => text,
            Some(delsp) if attached => crate::flowed::decode_like_git(&text, delsp),
            Some(delsp) => unflow(&text, delsp),
        })
        .collect();
    parts.text = texts.join("\n");
    parts
}

/// `Some(delsp)` when the part is `format=flowed`.
fn flowed(part: &MessagePart<'_>) -> Option<bool> {
    let ct = part.content_type()?;
    let format = ct.attribute("format")?;
    if !format.eq_ignore_ascii_case("flowed") {
        return None;
    }
    Some(
        ct.attribute("delsp")
            .is_some_and(|d| d.eq_ignore_ascii_case("yes")),
    )
}

/// A flowed text that holds a diff is read as `git am` reads it, so the
/// patch handed to git is the one git would take from the posted mail;
/// any other as a mail client shows it.
fn unflow(text: &str, delsp: bool) -> String {
    let as_git = crate::flowed::decode_like_git(text, delsp);
    if crate::diff::find(&as_git).is_some() {
        as_git
    } else {
        crate::flowed::decode(text, delsp)
    }
}

/// `type/subtype` in lower case; a part without Content-Type is text/plain
/// (RFC 2045), which is what every plain git send-email mail is.
fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None => "text/plain".to_string(),
    }
}

/// CRLF to LF when the whole text uses CRLF (a mail stored with network
/// line ends). A text with mixed ends is left alone: there the CR belongs to
/// the content, e.g. a patch to a file with DOS line ends.
pub(crate) fn normalize(text: &str) -> String {
    let lf = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    let crlf = memchr::memmem::find_iter(text.as_bytes(), b"\r\n").count();
    if crlf == 0 || crlf != lf {
        return text.to_string();
    }
    text.replace("\r\n", "\n")
}
