//! Mirror against real repositories: cloning, fetching with prune, and the
//! history questions (resolve, branch at a date, blobs at commits, a commit
//! by subject, diffs).

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

mod common;

use common::Upstream;
use patchgate_git::{Mirror, Oid};

fn oid(text: &str) -> Oid {
    Oid::parse(text).expect("git prints full ids")
}

#[test]
fn clone_answers_history_questions() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let up = Upstream::new(tmp.path().join("up"));
    up.write("a.txt", "one\n");
    let c1 = up.commit("first", 1_700_000_000);
    up.write("b.txt", "two\n");
    let c2 = up.commit("second", 1_700_100_000);
    up.write("a.txt", "one changed\n");
    let c3 = up.commit("third", 1_700_200_000);

    let mirror = Mirror::open_or_clone(up.dir.to_str().expect("utf-8"), tmp.path().join("m.git"))
        .expect("clone");
    assert_eq!(mirror.branch_head("master").expect("head"), Some(oid(&c3)));
    assert_eq!(mirror.resolve("master~2").expect("resolve"), Some(oid(&c1)));
    assert_eq!(mirror.resolve("no-such-branch").expect("resolve"), None);
    assert_eq!(mirror.commit_date(&oid(&c2)).expect("date"), 1_700_100_000);

    // The branch as it stood between the second and third commit.
    assert_eq!(
        mirror.branch_at("master", 1_700_150_000).expect("at"),
        Some(oid(&c2))
    );
    assert_eq!(mirror.branch_at("master", 1_600_000_000).expect("at"), None);
    assert_eq!(mirror.branch_at("gone", 1_800_000_000).expect("at"), None);

    assert_eq!(
        mirror
            .first_parents("master", Some(1_700_150_000), 10)
            .expect("line"),
        vec![oid(&c2), oid(&c1)]
    );
    assert_eq!(
        mirror
            .find_by_subject(&oid(&c3), "second", 1_700_000_000)
            .expect("find"),
        Some(oid(&c2))
    );
    assert_eq!(
        mirror
            .find_by_subject(&oid(&c3), "second", 1_700_150_000)
            .expect("find"),
        None,
        "committed before the window"
    );
    // Blobs of paths at commits, by one cat-file: the first a.txt, then
    // the changed one; b.txt only from the second commit on.
    let table = mirror
        .blobs_at(
            &[oid(&c1), oid(&c3)],
            &["a.txt".to_string(), "b.txt".to_string(), "none".to_string()],
        )
        .expect("blobs");
    let blob = |text: &str| {
        let path = tmp.path().join("blob");
        std::fs::write(&path, text).expect("write");
        common::git(tmp.path(), &["hash-object", path.to_str().expect("utf-8")])
            .trim()
            .to_string()
    };
    assert_eq!(table[0], vec![Some(blob("one\n")), None, None]);
    assert_eq!(
        table[1],
        vec![Some(blob("one changed\n")), Some(blob("two\n")), None]
    );
}

#[test]
fn fetch_prunes_upstream_branches_but_keeps_patchgate_refs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let up = Upstream::new(tmp.path().join("up"));
    up.write("a.txt", "one\n");
    let base = up.commit("first", 1_700_000_000);
    up.git(&["branch", "topic"]);
    let dir = tmp.path().join("m.git");
    let mirror = Mirror::open_or_clone(up.dir.to_str().expect("utf-8"), &dir).expect("clone");
    assert!(mirror.branch_head("topic").expect("topic").is_some());
    // A ref of patchgate's own, as a tested commit is kept by.
    std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&dir)
        .args(["update-ref", "refs/patchgate/applied/1", &base])
        .status()
        .expect("update-ref");

    up.git(&["branch", "-D", "topic"]);
    up.write("a.txt", "two\n");
    let next = up.commit("second", 1_700_000_100);
    // Reopening finds the existing mirror instead of cloning again.
    let mirror = Mirror::open_or_clone("/nonexistent/source", &dir).expect("open");
    mirror.fetch().expect("fetch");
    assert_eq!(mirror.branch_head("topic").expect("topic"), None);
    assert_eq!(
        mirror.branch_head("master").expect("master"),
        Some(oid(&next))
    );
    assert_eq!(
        mirror.resolve("refs/patchgate/applied/1").expect("kept"),
        Some(oid(&base))
    );
}

#[test]
fn clone_failure_names_the_command_and_leaves_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("m.git");
    let error = Mirror::open_or_clone(tmp.path().join("missing").to_str().expect("utf-8"), &dir)
        .expect_err("no such source");
    let text = error.to_string();
    assert!(text.contains("clone"), "{text}");
    assert!(!dir.exists());
}

#[test]
fn range_diff_compares_two_revisions() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let up = Upstream::new(tmp.path().join("up"));
    up.write("a.txt", "one\n");
    let base = up.commit("base", 1_700_000_000);
    up.git(&["checkout", "--quiet", "-b", "v1"]);
    up.write("a.txt", "one\ntwo\n");
    up.commit("add two", 1_700_000_100);
    up.git(&["checkout", "--quiet", "-b", "v2", &base]);
    up.write("a.txt", "one\n2\n");
    up.commit("add two", 1_700_000_200);
    let mirror = Mirror::open_or_clone(up.dir.to_str().expect("utf-8"), tmp.path().join("m.git"))
        .expect("clone");
    let text = mirror
        .range_diff(&format!("{base}..v1"), &format!("{base}..v2"))
        .expect("range-diff");
    assert!(text.contains("add two"), "{text}");
}
