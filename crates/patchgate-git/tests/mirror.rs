//! Mirror against real repositories: cloning, fetching with prune, and the
//! history questions (resolve, branch at a date, log, merge-base, diffs).

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

mod common;

use common::Upstream;
use patchgate_git::{GitError, Mirror, Oid};

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
    assert!(mirror.has_commit(&oid(&c2)).expect("has"));
    assert!(!mirror.has_commit(&oid(&"1".repeat(40))).expect("has"));
    assert_eq!(mirror.commit_date(&oid(&c2)).expect("date"), 1_700_100_000);

    // The branch as it stood between the second and third commit.
    assert_eq!(
        mirror.branch_at("master", 1_700_150_000).expect("at"),
        Some(oid(&c2))
    );
    assert_eq!(mirror.branch_at("master", 1_600_000_000).expect("at"), None);
    assert_eq!(mirror.branch_at("gone", 1_800_000_000).expect("at"), None);

    let range = format!("{c1}..{c3}");
    assert_eq!(
        mirror.rev_list(&range).expect("rev-list"),
        vec![oid(&c3), oid(&c2)]
    );
    let log = mirror.log(&range).expect("log");
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].subject, "third");
    assert_eq!(log[0].author_email, "ada@example.org");
    assert_eq!(log[1].committer_time, 1_700_100_000);
    assert_eq!(
        mirror.diff_names(&oid(&c1), &oid(&c3)).expect("diff"),
        vec!["a.txt", "b.txt"]
    );
    assert!(matches!(
        mirror.rev_list("--all"),
        Err(GitError::BadRevision { .. })
    ));

    up.git(&["checkout", "--quiet", "-b", "side", &c2]);
    up.write("c.txt", "side\n");
    let side = up.commit("side", 1_700_300_000);
    mirror.fetch().expect("fetch");
    assert_eq!(
        mirror.merge_base(&oid(&side), &oid(&c3)).expect("base"),
        Some(oid(&c2))
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
    mirror.keep("applied/1", &oid(&base)).expect("keep");

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
