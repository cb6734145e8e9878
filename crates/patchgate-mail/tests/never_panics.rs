//! Totality: parse(), subject::parse() and the mbox splitters return on any
//! input, however broken.

use proptest::prelude::*;

use patchgate_mail::{changes, mbox, parse, render_am, subject};

/// Bytes biased towards the shapes the parsers branch on.
fn mail_like() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "From a@b Mon Sep 17 00:00:00 2001\n",
        "From e\n",
        "From: =?UTF-8?B?w7Y=?= <a@b>\n",
        "Subject: Re: [PATCH v2 1/3] x\n",
        "Message-ID: <x@y>\n",
        "References: <a@b> junk <c\n",
        "Content-Type: multipart/mixed; boundary=b\n",
        "Content-Transfer-Encoding: base64\n",
        "Content-Type: text/x-patch; name=a.patch\n",
        "Content-Type: text/plain; format=flowed; delsp=yes\n",
        "  stuffed and soft \n",
        ">> quoted soft \n",
        "From x Mon Sep 17 10:30:00 1999 body\n",
        "--b\n",
        "\n",
        "\r\n",
        ">From x\n",
        "---\n",
        "diff --git a/x b/x\n",
        "index 0123abc..4567def 100644\n",
        "index ..\n",
        "new file mode 100644\n",
        "deleted file mode 100644\n",
        "rename from \"q\\303\"\n",
        "rename to y\n",
        "--- a/x\n",
        "+++ b/x\n",
        "@@ -1,2 +1,3 @@\n",
        "GIT binary patch\nliteral 5\n",
        "-- \n",
        "Reviewed-by: A <a@b>\n",
        "> Acked-by: B <b@c>\n",
        "base-commit: abc\n",
        "=?utf-8?q?=C3?=\n",
        "\u{e9}\u{ff}",
    ]);
    prop::collection::vec(
        prop_oneof![
            pieces.prop_map(|s| s.as_bytes().to_vec()),
            prop::collection::vec(any::<u8>(), 0..16),
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn parse_and_render_never_panic(raw in mail_like()) {
        let m = parse(&raw);
        let _ = render_am(&m, &[]);
    }

    #[test]
    fn diff_changes_never_panic(raw in mail_like()) {
        let text = String::from_utf8_lossy(&raw);
        for c in changes(&text) {
            // A blob is hex of a plausible length, never git's zero id.
            for b in [&c.old_blob, &c.new_blob].into_iter().flatten() {
                prop_assert!(b.len() >= 4 && b.bytes().all(|x| x.is_ascii_hexdigit()));
                prop_assert!(!b.bytes().all(|x| x == b'0'));
            }
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(raw in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&raw);
    }

    #[test]
    fn subject_parse_never_panics(s in "\\PC*", t in "[\\[\\]\\(\\):/ ReAwFwdPATCHRFCv0-9ofGITPULL]{0,40}") {
        let _ = subject::parse(&s);
        let p = subject::parse(&t);
        prop_assert!(p.version >= 1 || t.contains(['v', 'V']));
    }

    #[test]
    fn mbox_splitters_agree_and_never_panic(data in mail_like()) {
        let from_slice: Vec<Vec<u8>> = mbox::split(&data).map(|m| m.into_owned()).collect();
        let from_reader: Vec<Vec<u8>> = mbox::Splitter::new(&data[..]).filter_map(Result::ok).collect();
        prop_assert_eq!(&from_slice, &from_reader);
        // Reads that end anywhere (mid-line, mid-separator) change nothing.
        for step in [1, 2, 3, 7] {
            let trickled: Vec<Vec<u8>> = mbox::Splitter::new(Trickle { data: &data, step })
                .filter_map(Result::ok)
                .collect();
            prop_assert_eq!(&from_slice, &trickled, "reads of {} bytes", step);
        }
    }
}

/// A reader that hands out at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// A patch mail whose commit message is made of lines an mbox may
/// mistake, flowed or not.
fn patch_like() -> impl Strategy<Value = Vec<u8>> {
    let lines = prop::sample::select(vec![
        "From here on it is fixed\n",
        ">From a quoted line\n",
        ">>From deeper\n",
        "From x Mon Sep 17 10:30:00 1999 body\n",
        "From here 10:30:00 on\n",
        "From mboxrd@z Thu Jan  1 00:00:00 1970\n",
        "a=b and trailing \n",
        "tab\t\n",
        "caf\u{e9}\n",
        "plain words\n",
        "  indented\n",
        "\n",
    ]);
    (any::<bool>(), prop::collection::vec(lines, 1..12)).prop_map(|(flowed, lines)| {
        let mut m = String::from(
            "From: A <a@b>\nSubject: [PATCH] x\nMessage-ID: <p@x>\nDate: Mon, 1 Aug 2022 10:00:00 +0000\n",
        );
        if flowed {
            m.push_str("Content-Type: text/plain; charset=utf-8; format=flowed\n");
        }
        m.push_str("\ntitle line\n\n");
        m.push_str(&lines.concat());
        m.push_str("\nSigned-off-by: A <a@b>\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n");
        m.into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// What `series mbox` writes reads back as the same patch: no body line
    /// is taken for an envelope, however it starts.
    #[test]
    fn a_rendered_patch_reads_back_as_the_same_patch(raw in patch_like()) {
        let m = parse(&raw);
        prop_assert_eq!(m.kind, patchgate_mail::Kind::Patch);
        let rendered = render_am(&m, &[]);
        // Neither git mailsplit nor this crate's splitter cuts it.
        let mut body = rendered.split_inclusive(|&b| b == b'\n').skip(1);
        prop_assert!(!body.any(mbox::is_git_from_line));
        prop_assert_eq!(mbox::split(&rendered).count(), 1);
        let back = parse(&rendered);
        prop_assert_eq!(&back.diff, &m.diff);
        prop_assert_eq!(&back.body, &m.body);
    }
}
