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
}
