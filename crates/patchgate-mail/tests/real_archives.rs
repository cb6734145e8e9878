//! The real list archives in `shared/data`: every message parses, and the
//! kvmarm archive's counts match what its README says about it.

use std::path::PathBuf;

use patchgate_mail::{mbox, parse, Kind, Message};

/// `shared/data` beside the repository, or `None` (with a note) when absent.
fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: {} not found", dir.display());
        None
    }
}

fn read_mbox(path: &std::path::Path) -> Vec<Message> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    mbox::split(&data).map(|m| parse(&m)).collect()
}

#[test]
fn kvmarm_archive_has_230_messages_90_posts_12_covers() {
    let Some(dir) = data_dir() else { return };
    let messages = read_mbox(&dir.join("kvmarm-kvm-unit-tests-2022.mbox"));
    assert_eq!(messages.len(), 230);
    let count = |k: Kind| messages.iter().filter(|m| m.kind == k).count();
    for m in &messages {
        if std::env::var_os("DUMP").is_some() {
            println!(
                "{:?} {} | {:?} | {} | {:?} | {:?}",
                m.kind,
                m.subject,
                m.trailers.iter().map(|t| &t.name).collect::<Vec<_>>(),
                m.files.len(),
                m.base_commit,
                m.problems
            );
        }
    }
    assert_eq!(count(Kind::Cover), 12);
    assert_eq!(count(Kind::Patch) + count(Kind::Cover), 90);
    assert_eq!(count(Kind::Reply), 140);
    // The README counts 18 replies with Reviewed-by; an independent count
    // (every non-`Re:`-quoted `Reviewed-by:` line at column 0) finds 19.
    let reviewed = messages
        .iter()
        .filter(|m| m.kind == Kind::Reply && m.trailers.iter().any(|t| t.name == "Reviewed-by"))
        .count();
    assert_eq!(reviewed, 19);
}

#[test]
fn every_real_message_parses_and_patches_keep_footers_out_of_the_diff() {
    let Some(dir) = data_dir() else { return };
    let mut paths: Vec<PathBuf> = Vec::new();
    for sub in [dir.clone(), dir.join("patchwork-series-fixtures")] {
        let entries =
            std::fs::read_dir(&sub).unwrap_or_else(|e| panic!("listing {}: {e}", sub.display()));
        paths.extend(
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "mbox")),
        );
    }
    assert!(
        paths.len() >= 30,
        "expected the two archives and the patchwork fixtures"
    );
    let mut total = 0;
    for path in &paths {
        for m in read_mbox(path) {
            total += 1;
            assert_ne!(
                m.kind,
                Kind::Unusable,
                "{} {}: {:?}",
                path.display(),
                m.id,
                m.problems
            );
            if m.kind == Kind::Patch {
                let diff = m.diff.as_deref().unwrap_or_default();
                assert!(
                    !m.files.is_empty(),
                    "{} {}: patch without files",
                    path.display(),
                    m.id
                );
                for bad in ["\n-- \n", "_______________", "mailing list"] {
                    assert!(
                        !diff.contains(bad),
                        "{} {}: {bad:?} in diff",
                        path.display(),
                        m.id
                    );
                }
                assert!(
                    !m.body.contains("\ndiff --git"),
                    "{} {}: diff in commit message",
                    path.display(),
                    m.id
                );
            }
        }
    }
    println!("{total} messages from {} files", paths.len());
}

#[test]
fn demo_archive_has_four_revisions_of_one_topic() {
    let Some(dir) = data_dir() else { return };
    let messages = read_mbox(&dir.join("demo-arm-pmu-fixes-v1-v4.mbox"));
    assert_eq!(messages.len(), 66);
    let covers: Vec<&Message> = messages.iter().filter(|m| m.kind == Kind::Cover).collect();
    let versions: Vec<u32> = covers.iter().map(|m| m.prefix.version).collect();
    assert_eq!(versions, [1, 2, 3, 4]);
    assert_eq!(covers[3].id, "20220811185210.234711-1-ricarkol@google.com");
    let v4: Vec<&Message> = messages
        .iter()
        .filter(|m| m.kind == Kind::Patch && m.prefix.version == 4)
        .collect();
    assert_eq!(v4.len(), 4);
    assert!(v4
        .iter()
        .all(|m| m.in_reply_to.as_deref() == Some(covers[3].id.as_str())));
    assert!(
        v4.iter().all(|m| m.files == ["arm/pmu.c"]),
        "{:?}",
        v4.iter().map(|m| &m.files).collect::<Vec<_>>()
    );
}

#[test]
fn in_body_from_is_the_author_and_not_a_trailer() {
    let Some(dir) = data_dir() else { return };
    let messages = read_mbox(&dir.join("patchwork-series-fixtures/base-cover-letter.mbox"));
    let patch = &messages[1];
    assert_eq!(patch.kind, Kind::Patch);
    assert!(patch.trailers.is_empty(), "{:?}", patch.trailers);
    assert_eq!(patch.from.email, "stephenfinucane@gmail.com");
    assert_eq!(patch.author().email, "stephenfinucane@hotmail.com");
}
