//! Mails that carry a diff but are not postings: what a maintainer reads
//! and never applies.
//!
//! patchwork takes every mail with a diff for a patch; b4 looks only at
//! the threads it is asked for. patchgate reads a whole list, so it must
//! tell a submission from the other mail that quotes one:
//!
//! - notices from the stable and -mm queue bots (`Patch "x" has been added
//!   to the 5.15-stable tree`, `FAILED: patch "[PATCH] x" failed to apply`),
//!   which quote the whole patch they are about, trailers included;
//! - release announcements (`[ANNOUNCE] v6.1-rt5`, or an `I'm announcing
//!   the release of …` mail even when its sender tagged it `[PATCH]`),
//!   whose diff is the delta since the last release;
//! - bug reports that quote a hunk: a diff under a subject without any
//!   patch marker, and without the commit message shape (`---` break,
//!   `Signed-off-by:`, in-body `From:`) that every tool writing a patch
//!   gives it.
//!
//! Only the subject and the text before the diff are read: the diff of a
//! real patch may contain any words at all.

use crate::parse::is_patch_break;
use crate::{trailer, Subject};

/// The first words of the bots' notices, as they write them.
const BOT_OPENINGS: [&str; 4] = [
    // stable-queue: added to a stable tree.
    "This is a note to let you know that I've just added the patch titled",
    // stable-queue: a backport is needed.
    "The patch below does not apply to the",
    // akpm's mm-commits notices.
    "The patch titled",
    // stable-queue: dropped again.
    "This is a note to let you know that I've just removed the patch titled",
];

/// Phrases that open a release announcement.
const ANNOUNCING: [&str; 4] = [
    "i'm announcing the release of",
    "i'm pleased to announce",
    "we are pleased to announce",
    "is pleased to announce",
];

/// Is a mail that carries a diff something other than a posting? `text` is
/// its text, `before` the part above an inline diff, `None` when the diff
/// came as an attachment (which is a patch sent on purpose).
pub(crate) fn not_a_posting(prefix: &Subject, text: &str, before: Option<&str>) -> bool {
    let intro = before.unwrap_or(text);
    if is_announcement(prefix, intro) || is_bot_notice(prefix, intro) {
        return true;
    }
    // A subject without any patch marker: only a diff shaped like a commit
    // is a patch (git format-patch output, or a patchwork-rewritten
    // `[net,v2,1/2]` subject over one).
    !prefix.patch && before.is_some_and(|b| !shaped_like_a_commit(b))
}

/// `[ANNOUNCE]` in the subject: never a posting, not even as a `0/N`.
pub(crate) fn tagged_announcement(prefix: &Subject) -> bool {
    prefix
        .tags
        .iter()
        .any(|t| t.eq_ignore_ascii_case("ANNOUNCE") || t.eq_ignore_ascii_case("ANNOUNCEMENT"))
}

/// Tagged so, or opening like one. The words alone are only read above a
/// diff: a cover letter may well be pleased to announce a new driver.
fn is_announcement(prefix: &Subject, intro: &str) -> bool {
    tagged_announcement(prefix) || {
        let lower = intro.replace('\u{2019}', "'").to_lowercase();
        ANNOUNCING.iter().any(|p| lower.contains(p))
    }
}

fn is_bot_notice(prefix: &Subject, intro: &str) -> bool {
    let opening = intro.trim_start();
    if BOT_OPENINGS.iter().any(|o| opening.starts_with(o)) {
        return true;
    }
    if prefix.patch {
        return false;
    }
    // `Patch "x" has been added to …`, `FAILED: patch "[PATCH] x" failed …`:
    // a subject about a quoted patch.
    let title = prefix.title.to_ascii_lowercase();
    let title = title.strip_prefix("failed: ").unwrap_or(&title);
    title.starts_with("patch \"")
}

/// The text above a diff reads like a commit: git's `---` break, a
/// `Signed-off-by:` trailer, or in-body `From:`/`Subject:` headers.
fn shaped_like_a_commit(before: &str) -> bool {
    let (headers, _) = trailer::in_body_headers(before.trim_start_matches(['\n', '\r']));
    if headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("From") || n.eq_ignore_ascii_case("Subject"))
    {
        return true;
    }
    before.lines().any(|line| {
        is_patch_break(line)
            || trailer::split_trailer(line.trim_end())
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case("Signed-off-by"))
    })
}

#[cfg(test)]
mod tests {
    use crate::{parse, Kind};

    fn mail(subject: &str, body: &str) -> Vec<u8> {
        format!("From: A <a@example.org>\nSubject: {subject}\nDate: Mon, 08 Aug 2022 16:00:00 +0000\nMessage-ID: <x@example.org>\n\n{body}").into_bytes()
    }

    const DIFF: &str = "diff --git a/f.c b/f.c\nindex 1..2 100644\n--- a/f.c\n+++ b/f.c\n@@ -1,1 +1,1 @@\n-a\n+b\n";

    #[test]
    fn a_patch_whose_diff_announces_something_is_still_a_patch() {
        let diff = DIFF.replace("+b", "+\"I'm pleased to announce\"");
        let m = parse(&mail(
            "[PATCH] f: greet",
            &format!("Greet.\n\nSigned-off-by: A <a@example.org>\n---\n{diff}"),
        ));
        assert_eq!(m.kind, Kind::Patch);
    }

    #[test]
    fn a_cover_letter_pleased_to_announce_a_driver_is_still_a_cover() {
        let m = parse(&mail(
            "[PATCH 0/2] new driver",
            "We are pleased to announce a driver.\n",
        ));
        assert_eq!(m.kind, Kind::Cover);
    }

    #[test]
    fn an_unprefixed_diff_shaped_like_a_commit_is_a_patch() {
        for body in [
            format!("Fix.\n\nSigned-off-by: A <a@example.org>\n{DIFF}"),
            format!("From: B <b@example.org>\n\nFix.\n{DIFF}"),
            format!("Fix.\n---\n f.c | 2 +-\n\n{DIFF}"),
        ] {
            assert_eq!(parse(&mail("f: fix", &body)).kind, Kind::Patch, "{body}");
        }
        assert_eq!(
            parse(&mail("f: it breaks", &format!("Look:\n\n{DIFF}"))).kind,
            Kind::Other
        );
    }

    #[test]
    fn a_patch_about_patch_files_is_still_a_patch() {
        let body = format!("Fix.\n\nSigned-off-by: A <a@example.org>\n---\n{DIFF}");
        let m = parse(&mail("[PATCH] scripts: patch \"x\" handling", &body));
        assert_eq!(m.kind, Kind::Patch);
    }
}
