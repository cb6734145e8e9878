//! One email's bytes in, one [`Message`] out.
//!
//! This crate owns everything that can be learnt from a single mail: its
//! identity (Message-ID, threading headers), its author and date, the subject
//! prefix grammar (`[RFC PATCH kvm-unit-tests v3 02/11]`), whether it carries a
//! patch (inline or attached), the commit message, trailers and diff. It also
//! splits mbox files into messages and renders an am-ready mail.
//!
//! Invariant: pure and total. No IO, no clock, no panics: every function
//! accepts arbitrary bytes and returns a value, recording what was wrong in
//! [`Message::problems`] instead of failing.

use serde::{Deserialize, Serialize};

mod diff;
pub mod mbox;
mod mime;
mod notice;
mod parse;
mod render;
pub mod subject;
pub mod trailer;

pub use diff::{changes, FileChange};
pub use parse::{parse, synthetic_id};
pub use render::render_am;
pub use subject::Subject;

/// A person as named in a `From:` header or a trailer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Person {
    /// Display name, RFC 2047 decoded; may be empty.
    pub name: String,
    /// Address, lower-cased domain; may be empty for broken mail.
    pub email: String,
}

/// One `Name: value` trailer line (`Reviewed-by: A <a@b>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Trailer {
    /// Canonical capitalisation: `Reviewed-by`, `Signed-off-by`, `Acked-by`.
    pub name: String,
    /// The value as written, trimmed.
    pub value: String,
}

/// What a message is, as far as patch flow is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Carries a diff (inline or as a `text/x-patch`/`.patch`/`.diff` attachment).
    Patch,
    /// `[PATCH 0/N]` without a diff: a series' cover letter.
    Cover,
    /// `[GIT PULL]` request.
    PullRequest,
    /// A reply (`Re:`) in a thread; may carry trailers for what it answers.
    Reply,
    /// Anything else: discussion, announcements.
    Other,
    /// The bytes could not be read as a mail at all; see `problems`.
    Unusable,
}

/// Everything derived from one mail's raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Message-ID without angle brackets. A mail without one gets
    /// [`synthetic_id`] of its bytes, so every re-ingest gives the same id.
    pub id: String,
    /// True when `id` was derived from the bytes.
    pub synthetic_id: bool,
    /// `In-Reply-To`, without brackets.
    pub in_reply_to: Option<String>,
    /// `References`, oldest first, without brackets.
    pub references: Vec<String>,
    pub from: Person,
    /// `Date:` as Unix seconds (UTC), when it could be read.
    pub date: Option<i64>,
    /// Decoded subject, whitespace folded.
    pub subject: String,
    /// `List-Id`, without brackets.
    pub list_id: Option<String>,
    /// The subject parsed by the prefix grammar.
    pub prefix: Subject,
    pub kind: Kind,
    /// For a patch: the commit message (body before the `---` line, trailers
    /// included). For other mail: the decoded text body.
    pub body: String,
    /// Trailers written in this mail itself, never from quoted (`> `) lines.
    pub trailers: Vec<Trailer>,
    /// The unified diff, starting at the first `diff --git` (or `---`/`+++`) line.
    /// Set for [`Kind::Patch`] only: a diff suggested in a reply stays in
    /// `body`, and a cover letter's interdiff is not the series' patch.
    pub diff: Option<String>,
    /// Paths touched by `diff` (both sides of a rename).
    pub files: Vec<String>,
    /// `base-commit:` as written in the mail (cover or patch).
    pub base_commit: Option<String>,
    /// b4's `change-id:`.
    pub change_id: Option<String>,
    /// What was wrong with the mail; empty for a clean one.
    pub problems: Vec<String>,
}

impl Message {
    /// The patch's author as `git am` records it: the in-body `From:` at the
    /// top of the commit message (written when someone posts another
    /// person's patch), else the mail's sender.
    pub fn author(&self) -> Person {
        if self.kind == Kind::Patch {
            let (headers, _) = trailer::in_body_headers(&self.body);
            if let Some((_, value)) = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("From")) {
                let person = trailer::person(value);
                if !person.email.is_empty() {
                    return person;
                }
            }
        }
        self.from.clone()
    }
}
