//! Golden mails: one small hand-written fixture per quirk of list mail, with
//! the fields that quirk must not break.

use std::path::PathBuf;

use patchgate_mail::{mbox, parse, Kind, Message};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn load(name: &str) -> Message {
    parse(&fixture(name))
}

/// The diff every fixture carries, as it must come out.
const DIFF: &str = "diff --git a/lib/util.c b/lib/util.c\nindex 3b18e51..a9c1f2d 100644\n--- a/lib/util.c\n+++ b/lib/util.c\n@@ -1,3 +1,3 @@\n int util(void)\n {\n-\treturn 0;\n+\treturn 1;\n";

fn names(m: &Message) -> Vec<&str> {
    m.trailers.iter().map(|t| t.name.as_str()).collect()
}

#[test]
fn base64_attachment_patch_gives_diff_and_message_from_text_part() {
    let m = load("base64-attachment.eml");
    assert_eq!(m.kind, Kind::Patch);
    assert_eq!(m.diff.as_deref(), Some(DIFF));
    assert_eq!(m.files, ["lib/util.c"]);
    assert_eq!(
        m.body,
        "util() must return one for callers that test for success.\n\nSigned-off-by: Ann Author <ann@example.org>"
    );
    assert_eq!(m.from.email, "ann@example.org");
    assert_eq!(
        (m.prefix.version, m.prefix.index, m.prefix.total),
        (2, Some(3), Some(5))
    );
    assert!(m.problems.is_empty(), "{:?}", m.problems);
}

#[test]
fn quoted_printable_inline_patch_is_decoded_and_signature_left_out() {
    let m = load("qp-inline.eml");
    assert_eq!(m.kind, Kind::Patch);
    assert_eq!(
        m.diff.as_deref(),
        Some(DIFF.replace("return 1;", "return x == 1;").as_str())
    );
    assert!(m.body.starts_with("A line long enough that the quoted-printable encoder must wrap it with a soft line break somewhere.\n"));
    assert_eq!(names(&m), ["Signed-off-by"]);
}

#[test]
fn iso_8859_1_body_is_decoded_to_utf8() {
    let m = load("latin1-body.eml");
    assert_eq!(m.kind, Kind::Patch);
    assert!(
        m.body.starts_with("Le caf\u{e9} est pr\u{ea}t."),
        "{:?}",
        m.body
    );
    assert_eq!(m.trailers[0].value, "Ren\u{e9} Latin <rene@example.org>");
    assert_eq!(m.diff.as_deref(), Some(DIFF));
}

#[test]
fn rfc2047_from_and_folded_encoded_subject_are_decoded() {
    let m = load("rfc2047-from.eml");
    assert_eq!(m.from.name, "J\u{f6}rg R\u{f6}del");
    assert_eq!(m.from.email, "joro@8bytes.org", "domain lower-cased");
    assert_eq!(m.subject, "Re: [PATCH v3 02/11] iommu: f\u{fc}r all");
    assert_eq!(m.kind, Kind::Reply);
    assert!(m.prefix.reply);
    assert_eq!(m.prefix.title, "iommu: f\u{fc}r all");
    assert_eq!(m.date, Some(1_659_729_600));
    assert_eq!(m.in_reply_to.as_deref(), Some("orig-2@example.org"));
    assert_eq!(m.references, ["orig-0@example.org", "orig-2@example.org"]);
    assert_eq!(names(&m), ["Reviewed-by"]);
}

#[test]
fn mail_without_message_id_gets_stable_synthetic_id() {
    let raw = fixture("no-message-id.eml");
    let m = parse(&raw);
    assert!(m.synthetic_id);
    assert_eq!(m.id, patchgate_mail::synthetic_id(&raw));
    assert_eq!(m.id, parse(&raw).id);
    assert!(m.id.ends_with("@patchgate.invalid"));
    assert!(!m.problems.is_empty());
    assert_eq!(m.in_reply_to.as_deref(), Some("parent@example.org"));
    assert_eq!(
        m.references,
        ["root@example.org", "mid@example.org", "parent@example.org"]
    );
    assert_eq!(m.kind, Kind::Other);
    assert!(m.prefix.rfc);
}

#[test]
fn crlf_mail_gives_lf_diff_and_list_id_without_brackets() {
    let m = load("crlf.eml");
    assert_eq!(m.kind, Kind::Patch);
    assert_eq!(m.diff.as_deref(), Some(DIFF));
    assert_eq!(
        m.body,
        "Line ends are CRLF here.\n\nSigned-off-by: Carl R <carl@example.org>"
    );
    assert_eq!(m.list_id.as_deref(), Some("list.example.org"));
}

#[test]
fn mboxrd_from_lines_are_unescaped_once() {
    let data = fixture("mboxrd.mbox");
    let messages: Vec<Message> = mbox::split(&data).map(|m| parse(&m)).collect();
    assert_eq!(messages.len(), 2);
    assert!(messages[0]
        .body
        .starts_with("From the start this was wrong.\n>From here it is quoted.\n"));
    assert_eq!(messages[0].diff.as_deref(), Some(DIFF));
    assert_eq!(messages[1].id, "rd-2@example.org");
    assert_eq!(messages[1].diff.as_deref(), Some(DIFF));
}

#[test]
fn quoted_prose_and_signature_trailers_never_count_in_a_reply() {
    let m = load("quoted-trailers.eml");
    assert_eq!(m.kind, Kind::Reply);
    let got: Vec<(&str, &str)> = m
        .trailers
        .iter()
        .map(|t| (t.name.as_str(), t.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("Reviewed-by", "Rita Reviewer <rita@example.org>"),
            ("Tested-by", "Rita Reviewer <rita@example.org>"),
        ]
    );
}

#[test]
fn git_pull_is_a_pull_request_even_with_a_diff() {
    let m = load("git-pull.eml");
    assert_eq!(m.kind, Kind::PullRequest);
    assert!(m.prefix.pull);
    assert_eq!(m.prefix.title, "util fixes for 6.1");
}

#[test]
fn mercurial_subject_and_plain_diff_are_read() {
    let m = load("mercurial.eml");
    assert_eq!(m.kind, Kind::Patch);
    assert_eq!((m.prefix.index, m.prefix.total), (Some(1), Some(2)));
    assert!(m.prefix.patch);
    assert_eq!(m.files, ["contrib/check-commit"]);
    assert!(m
        .diff
        .as_deref()
        .is_some_and(|d| d.starts_with("diff -r 1a2b3c4d5e6f") && d.ends_with("+exit 0\n")));
}

#[test]
fn b4_cover_letter_gives_base_commit_and_change_id() {
    let m = load("b4-cover.eml");
    assert_eq!(m.kind, Kind::Cover);
    assert!(m.prefix.rfc && m.prefix.patch);
    assert_eq!(m.prefix.version, 3);
    assert_eq!(
        m.base_commit.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(
        m.change_id.as_deref(),
        Some("20220812-util-cleanups-1a2b3c4d5e6f")
    );
    assert!(m.diff.is_none());
}

#[test]
fn b4_patch_diff_stops_before_base_commit_and_list_footer() {
    let m = load("b4-patch-footer.eml");
    assert_eq!(m.kind, Kind::Patch);
    assert_eq!(m.diff.as_deref(), Some(DIFF));
    assert_eq!(
        m.base_commit.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(
        m.change_id.as_deref(),
        Some("20220812-util-cleanups-1a2b3c4d5e6f")
    );
    assert_eq!(names(&m), ["Link", "Cc", "Signed-off-by"]);
    assert_eq!(m.trailers[1].value, "stable@example.org # 5.10");
    assert_eq!(m.list_id.as_deref(), Some("util.lists.example.org"));
}

#[test]
fn reply_carrying_a_diff_is_a_reply_without_diff() {
    let m = load("reply-with-diff.eml");
    assert_eq!(m.kind, Kind::Reply);
    assert!(m.diff.is_none());
    assert!(m.files.is_empty());
    assert!(
        m.body.contains("diff --git"),
        "the suggestion stays readable in the body"
    );
}

#[test]
fn cover_letter_with_interdiff_stays_a_cover() {
    let m = load("cover-interdiff.eml");
    assert_eq!(m.kind, Kind::Cover);
    assert!(m.diff.is_none());
}

#[test]
fn bytes_that_are_not_a_mail_are_unusable_with_a_reason() {
    let m = load("not-a-mail.bin");
    assert_eq!(m.kind, Kind::Unusable);
    assert!(m.synthetic_id);
    assert!(!m.problems.is_empty());
    assert_eq!(parse(b"").kind, Kind::Unusable);
    assert_eq!(parse(b"just some words\n").kind, Kind::Unusable);
}

#[test]
fn envelope_line_of_a_single_entry_is_not_a_header() {
    let mut raw = b"From 1234abcd Mon Sep 17 00:00:00 2001\n".to_vec();
    raw.extend_from_slice(&fixture("crlf.eml"));
    let m = parse(&raw);
    assert_eq!(m.id, "crlf-1@example.org");
    assert_eq!(m.kind, Kind::Patch);
}

// ---------------------------------------------------------------- not postings

/// A mail that carries a diff but that no maintainer would take for a
/// posting: kept as discussion, with no diff and no trailers of its own.
fn assert_not_a_posting(name: &str) {
    let m = load(name);
    assert_eq!(m.kind, Kind::Other, "{name}: {}", m.subject);
    assert_eq!(m.diff, None, "{name}");
    assert!(m.files.is_empty(), "{name}");
}

#[test]
fn stable_tree_added_notice_is_not_a_patch_and_gives_no_trailers() {
    assert_not_a_posting("stable-added-notice.eml");
    // The notice quotes the patch it is about; its Reviewed-by and
    // Signed-off-by lines are the patch's, not a review from the bot.
    assert!(load("stable-added-notice.eml").trailers.is_empty());
}

#[test]
fn stable_tree_failed_to_apply_notice_is_not_a_patch() {
    assert_not_a_posting("stable-failed-notice.eml");
    assert!(load("stable-failed-notice.eml").trailers.is_empty());
}

#[test]
fn bug_report_quoting_a_hunk_is_not_a_patch() {
    assert_not_a_posting("bug-report-with-snippet.eml");
}

#[test]
fn release_announcement_with_its_delta_is_not_a_patch() {
    assert_not_a_posting("announce-with-delta.eml");
}

#[test]
fn release_announcement_tagged_patch_is_not_a_patch() {
    assert_not_a_posting("release-tagged-patch.eml");
}

// ---------------------------------------------------------------- DMARC

#[test]
fn from_rewritten_by_the_list_for_dmarc_names_the_sender_again() {
    let m = load("dmarc-reply-to.eml");
    assert_eq!(m.from.name, "Jane Doe");
    assert_eq!(m.from.email, "jane@strict-dmarc.example");
    let m = load("dmarc-original-from.eml");
    assert_eq!(m.from.name, "Jane Doe");
    assert_eq!(m.from.email, "jane@strict-dmarc.example");
}

#[test]
fn a_via_name_without_the_senders_address_keeps_its_from() {
    let m = load("dmarc-no-original.eml");
    assert_eq!(m.from.name, "Jane Doe via Kvmarm");
    assert_eq!(m.from.email, "kvmarm@lists.cs.columbia.edu");
}

/// The commit message of the two flowed fixtures, as `git am` records it.
const FLOWED_MESSAGE: &str = "This is a long paragraph that a mail client wrapped at seventy-two columns, so it arrives as several lines with soft breaks between them.\n\nFrom here on, add() never overflows:\n    add(INT_MAX, 1) == INT_MAX\n\nSigned-off-by: Flo Wed <flo@example.org>";

#[test]
fn flowed_patch_is_unstuffed_and_joined_as_git_am_reads_it() {
    for name in ["flowed-patch.eml", "flowed-delsp-patch.eml"] {
        let m = load(name);
        assert_eq!(m.kind, Kind::Patch, "{name}");
        assert_eq!(m.body, FLOWED_MESSAGE, "{name}");
        let diff = m.diff.as_deref().unwrap_or_default();
        assert!(
            diff.contains("\n int add(int a, int b)\n {\n+    if (b > 0"),
            "{name}: context lines keep one space:\n{diff}"
        );
        assert_eq!(m.files, ["lib.c"], "{name}");
        assert_eq!(names(&m), ["Signed-off-by"], "{name}");
    }
}

#[test]
fn flowed_reply_keeps_quotes_apart_and_finds_the_trailer_on_its_line() {
    let raw = b"From: R <r@example.org>\nSubject: Re: [PATCH] x\nMessage-ID: <r@x>\nIn-Reply-To: <p@x>\nContent-Type: text/plain; format=flowed; delsp=yes\n\n> Signed-off-by: Someone Else  \n> <else@example.org>\nLooks good to me,  \nthanks.\n\nReviewed-by: Rita Reviewer  \n<r@example.org>\n";
    let m = parse(raw);
    assert_eq!(m.kind, Kind::Reply);
    assert!(m.body.contains("Looks good to me, thanks."), "{}", m.body);
    assert!(
        m.body
            .starts_with("> Signed-off-by: Someone Else <else@example.org>\n"),
        "{}",
        m.body
    );
    let got: Vec<(&str, &str)> = m
        .trailers
        .iter()
        .map(|t| (t.name.as_str(), t.value.as_str()))
        .collect();
    assert_eq!(got, [("Reviewed-by", "Rita Reviewer <r@example.org>")]);
}

#[test]
fn flowed_text_beside_an_attached_patch_is_read_as_git_reads_it() {
    // git joins a soft-broken line whatever its quote marks; a client
    // would not join across a change of quote depth.
    let raw = b"From: A <a@example.org>\nSubject: [PATCH] lib: fix\nMessage-ID: <att@x>\n\
MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\
Content-Type: text/plain; format=flowed\n\nFix it, as asked:\n>quoted soft \nnext\n\n\
Signed-off-by: A <a@example.org>\n--b\nContent-Type: text/x-patch; name=fix.patch\n\n\
diff --git a/lib/util.c b/lib/util.c\nindex 3b18e51..a9c1f2d 100644\n--- a/lib/util.c\n\
+++ b/lib/util.c\n@@ -1,3 +1,3 @@\n int util(void)\n {\n-\treturn 0;\n+\treturn 1;\n--b--\n";
    let m = parse(raw);
    assert_eq!(m.kind, Kind::Patch);
    assert_eq!(
        m.body,
        "Fix it, as asked:\n>quoted soft next\n\nSigned-off-by: A <a@example.org>"
    );
    assert_eq!(m.diff.as_deref(), Some(DIFF));
}
