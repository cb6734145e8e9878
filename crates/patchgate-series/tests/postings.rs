//! Small postings shaped like real list mail (`tests/data/*.mbox`), each
//! pinning one way a real posting differs from the textbook one: who sent
//! it, how its patches are labelled, what else carries a diff.

use std::path::PathBuf;

use patchgate_series::{assemble, Assembly, Mail, Series};

fn load(name: &str) -> Vec<Mail> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    patchgate_mail::mbox::split(&bytes)
        .map(|raw| Mail::from(&patchgate_mail::parse(&raw)))
        .collect()
}

fn summary(a: &Assembly) -> Vec<String> {
    a.series
        .iter()
        .map(|s| {
            let idx: Vec<u32> = s.patches.iter().map(|p| p.index).collect();
            format!(
                "{} v{} {idx:?}/{} cover={} {}",
                s.key,
                s.version,
                s.total,
                s.cover.is_some(),
                s.title
            )
        })
        .collect()
}

fn by_title<'a>(a: &'a Assembly, title: &str) -> &'a Series {
    let mut it = a.series.iter().filter(|s| s.title == title);
    let s = it
        .next()
        .unwrap_or_else(|| panic!("no series {title:?}: {:#?}", summary(a)));
    assert!(
        it.next().is_none(),
        "two series {title:?}: {:#?}",
        summary(a)
    );
    s
}

// ---------------------------------------------------------------- senders

#[test]
fn patches_under_a_cover_sent_by_someone_else_join_it() {
    // The cover is the sender's, the patches keep their author's From:
    // (format-patch files sent as they are), one deep-threaded.
    let a = assemble(&load("sender-is-not-author.mbox"));
    assert_eq!(a.series.len(), 1, "{:#?}", summary(&a));
    let s = &a.series[0];
    assert_eq!(
        s.cover.as_deref(),
        Some("20221103091530.4711-1-paolo@example.org")
    );
    assert_eq!(s.patches.len(), 3);
    assert!(s.complete);
    assert_eq!(s.author.email, "paolo@example.org");
}

#[test]
fn a_cover_whose_from_the_list_rewrote_keeps_its_patches() {
    let a = assemble(&load("dmarc-rewritten-from.mbox"));
    assert_eq!(a.series.len(), 1, "{:#?}", summary(&a));
    assert!(a.series[0].complete);
    assert_eq!(a.series[0].version, 2);
    // The list kept her address in Reply-To.
    assert_eq!(a.series[0].author.email, "jane@strict-dmarc.example");
}

// ---------------------------------------------------------------- labels

#[test]
fn siblings_labelled_with_another_version_or_n_join_their_posting() {
    let a = assemble(&load("mislabelled-siblings.mbox"));
    assert_eq!(a.series.len(), 3, "{:#?}", summary(&a));

    let v3 = by_title(&a, "lib: bitmap: range helpers");
    assert_eq!((v3.version, v3.total, v3.patches.len()), (3, 4, 4));
    assert!(v3.complete);

    let psci = by_title(&a, "arm: psci: cleanups");
    assert_eq!((psci.version, psci.total, psci.patches.len()), (1, 4, 4));
    assert!(psci.complete, "{:#?}", summary(&a));

    // Its cover letter is not in the archive: the siblings answer the same
    // absent message.
    let boot = by_title(&a, "arm64: boot: split the init path");
    assert_eq!(boot.cover, None);
    assert_eq!((boot.version, boot.total, boot.patches.len()), (2, 3, 3));
    assert!(boot.complete);
}

// ---------------------------------------------------------------- not series

#[test]
fn bot_notices_announcements_and_bug_reports_make_no_series() {
    let mails = load("not-postings.mbox");
    assert_eq!(mails.len(), 5);
    let a = assemble(&mails);
    assert!(a.series.is_empty(), "{:#?}", summary(&a));
}

#[test]
fn backports_to_different_stable_branches_are_different_topics() {
    let a = assemble(&load("stable-backports.mbox"));
    let on = |branch: &str, version: u32| -> &Series {
        let mut it = a
            .series
            .iter()
            .filter(|s| s.tags.iter().any(|t| t == branch) && s.version == version);
        let s = it
            .next()
            .unwrap_or_else(|| panic!("no {branch} v{version}: {:#?}", summary(&a)));
        assert!(
            it.next().is_none(),
            "two {branch} v{version}: {:#?}",
            summary(&a)
        );
        s
    };
    assert_eq!(a.series.len(), 5, "{:#?}", summary(&a));
    for s in &a.series {
        assert!(s.complete, "{:#?}", summary(&a));
    }
    let (b515, b510, b510v2) = (on("5.15", 1), on("5.10", 1), on("5.10", 2));
    assert_eq!(b510.topic, b510v2.topic);
    assert_eq!(b510.superseded_by.as_deref(), Some(b510v2.key.as_str()));
    assert_ne!(b515.topic, b510.topic);
    assert_eq!(b515.superseded_by, None);
    // Sent unthreaded and interleaved: each branch's two patches together.
    let (b60, b61) = (on("6.0", 1), on("6.1", 1));
    assert_ne!(b60.topic, b61.topic);
    assert!(b60.patches.iter().all(|p| p.message_id.contains(".3001-")));
    assert!(b61.patches.iter().all(|p| p.message_id.contains(".3002-")));
}
