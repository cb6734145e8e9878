//! Prints how fast an mbox is split and parsed: `cargo bench -p patchgate-mail`.
//! Figures only, no assertions: speed is measured, not tested.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use patchgate_mail::{mbox, parse};

/// An mbox of `count` git-send-email-shaped mails of about 5 KB each, one in
/// ten with an mboxrd-escaped line so the unescaping path is measured too.
fn synthetic_mbox(count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..count {
        out.extend_from_slice(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n");
        out.extend_from_slice(
            format!(
                "From: A <a@example.org>\nSubject: [PATCH v2 {n}/9] x: change {i}\nDate: Mon, 8 Aug 2022 16:00:00 +0000\nMessage-ID: <{i}@example.org>\n\nWhy.\n",
                n = i % 9 + 1
            )
            .as_bytes(),
        );
        if i % 10 == 0 {
            out.extend_from_slice(b">From the start.\n");
        }
        out.extend_from_slice(b"\nSigned-off-by: A <a@example.org>\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,70 +1,70 @@\n");
        for line in 0..70 {
            out.extend_from_slice(
                format!(" context line {line} of a file with some typical length to it\n")
                    .as_bytes(),
            );
        }
        out.extend_from_slice(b"\n");
    }
    out
}

fn rate(label: &str, messages: usize, bytes: usize, run: impl Fn() -> usize) {
    let start = Instant::now();
    let mut rounds = 0;
    while start.elapsed().as_secs_f64() < 2.0 || rounds == 0 {
        assert_eq!(run(), messages);
        rounds += 1;
    }
    let secs = start.elapsed().as_secs_f64() / f64::from(rounds);
    println!(
        "{label}: {messages} msgs, {:.1} MB: {:.0} msgs/s, {:.0} MB/s",
        bytes as f64 / 1e6,
        messages as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
}

fn main() {
    let data = synthetic_mbox(20_000);
    rate("split, synthetic 5 KB mails", 20_000, data.len(), || {
        mbox::split(&data)
            .inspect(|m| _ = black_box(m.len()))
            .count()
    });
    rate(
        "split+parse, synthetic 5 KB mails",
        20_000,
        data.len(),
        || {
            mbox::split(&data)
                .inspect(|m| _ = black_box(parse(m)))
                .count()
        },
    );
    let real = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/kvmarm-kvm-unit-tests-2022.mbox");
    match std::fs::read(&real) {
        Ok(real) => {
            rate("split, kvmarm archive", 230, real.len(), || {
                mbox::split(&real).count()
            });
            rate("split+parse, kvmarm archive", 230, real.len(), || {
                mbox::split(&real)
                    .inspect(|m| _ = black_box(parse(m)))
                    .count()
            });
        }
        Err(e) => println!("kvmarm archive skipped: {}: {e}", real.display()),
    }
}
