//! Worktrees and `git am` against real repositories: a series applies with
//! deterministic ids, a conflict comes back as a value naming the patch and
//! files, and worktrees never outlive their job.

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

mod common;

use common::{numbered, Upstream};
use patchgate_git::{patch_id_stable, AmOptions, AmOutcome, Mirror, Oid};

fn oid(text: &str) -> Oid {
    Oid::parse(text).expect("git prints full ids")
}

fn fixed_committer() -> AmOptions {
    AmOptions {
        committer_date: Some("@1700500000 +0000".into()),
        ..AmOptions::default()
    }
}

/// master with two files, and a 3-patch series on branch `topic`; returns
/// (upstream, base id, series mbox).
fn series(root: &std::path::Path) -> (Upstream, String, Vec<u8>) {
    let up = Upstream::new(root.join("up"));
    up.write("src/a.c", &numbered(30, "a"));
    up.write("src/b.c", &numbered(30, "b"));
    let base = up.commit("base", 1_700_000_000);
    up.git(&["checkout", "--quiet", "-b", "topic"]);
    for (n, file) in ["src/a.c", "src/b.c", "src/a.c"].iter().enumerate() {
        let mut text = std::fs::read_to_string(up.dir.join(file)).expect("read");
        text = text.replacen(
            &format!("line {}\n", 5 + 10 * n),
            &format!("line {} changed\n", 5 + 10 * n),
            1,
        );
        up.write(file, &text);
        up.commit(
            &format!("topic: change {}", n + 1),
            1_700_000_100 + n as i64,
        );
    }
    up.git(&["checkout", "--quiet", "master"]);
    let mbox = up.format_patch(&format!("{base}..topic"));
    (up, base, mbox)
}

#[test]
fn series_applies_with_the_same_ids_every_time() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (up, base, mbox) = series(tmp.path());
    let mirror = Mirror::open_or_clone(up.dir.to_str().expect("utf-8"), tmp.path().join("m.git"))
        .expect("clone");
    let mut results = Vec::new();
    for job in ["job-1", "job-2"] {
        let worktree = mirror
            .add_worktree(tmp.path().join("jobs").join(job), &oid(&base))
            .expect("worktree");
        let AmOutcome::Applied(applied) = worktree.am(&mbox, &fixed_committer()).expect("am runs")
        else {
            panic!("series should apply");
        };
        assert_eq!(applied.base, oid(&base));
        assert_eq!(applied.commits.len(), 3);
        assert_eq!(worktree.head().expect("head"), *applied.head());
        let text = std::fs::read_to_string(worktree.path().join("src/b.c")).expect("applied file");
        assert!(text.contains("b line 15 changed"));
        results.push(applied.commits);
        worktree.remove().expect("remove");
    }
    assert_eq!(results[0], results[1]);
    assert!(!tmp.path().join("jobs/job-1").exists());
}

#[test]
fn conflict_is_a_value_naming_patch_and_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (up, _base, mbox) = series(tmp.path());
    // master changes the line the second patch changes.
    let text = std::fs::read_to_string(up.dir.join("src/b.c")).expect("read");
    up.write("src/b.c", &text.replace("b line 15\n", "b line fifteen\n"));
    let master = up.commit("master moves", 1_700_000_500);
    let mirror = Mirror::open_or_clone(up.dir.to_str().expect("utf-8"), tmp.path().join("m.git"))
        .expect("clone");
    let worktree = mirror
        .add_worktree(tmp.path().join("jobs/j"), &oid(&master))
        .expect("worktree");

    for three_way in [true, false] {
        let options = AmOptions {
            three_way,
            ..fixed_committer()
        };
        let AmOutcome::Failed(failure) = worktree.am(&mbox, &options).expect("am runs") else {
            panic!("series should not apply");
        };
        assert_eq!(failure.index, 2, "{failure:?}");
        assert_eq!(failure.total, Some(3));
        assert_eq!(failure.subject, "topic: change 2");
        assert_eq!(failure.files, vec!["src/b.c"], "{failure:?}");
        assert!(failure.message.contains("src/b.c"), "{}", failure.message);
        assert!(!failure.message.contains("hint:"), "{}", failure.message);
        // Back where it started, with no am in progress: the next am works.
        assert_eq!(worktree.head().expect("head"), oid(&master));
    }
}

#[test]
fn input_without_patches_fails_as_a_value() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (up, base, _mbox) = series(tmp.path());
    let mirror = Mirror::open_or_clone(up.dir.to_str().expect("utf-8"), tmp.path().join("m.git"))
        .expect("clone");
    let worktree = mirror
        .add_worktree(tmp.path().join("jobs/j"), &oid(&base))
        .expect("worktree");
    let outcome = worktree.am(
        b"From: someone\nSubject: hello\n\njust words\n",
        &fixed_committer(),
    );
    let AmOutcome::Failed(failure) = outcome.expect("am runs") else {
        panic!("nothing to apply");
    };
    assert!(!failure.message.is_empty());
    assert_eq!(worktree.head().expect("head"), oid(&base));
}

#[test]
fn dropped_and_crashed_worktrees_are_cleared() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (up, base, _mbox) = series(tmp.path());
    let mirror = Mirror::open_or_clone(up.dir.to_str().expect("utf-8"), tmp.path().join("m.git"))
        .expect("clone");
    let jobs = tmp.path().join("jobs");
    {
        let worktree = mirror
            .add_worktree(jobs.join("dropped"), &oid(&base))
            .expect("worktree");
        assert!(worktree.path().join("src/a.c").exists());
    }
    assert!(!jobs.join("dropped").exists());

    // A process that dies never runs Drop; forget stands in for the crash.
    std::mem::forget(
        mirror
            .add_worktree(jobs.join("crashed"), &oid(&base))
            .expect("worktree"),
    );
    std::fs::create_dir_all(jobs.join("unrelated")).expect("dir");
    // The same job retried at the same place replaces the leftover.
    std::mem::forget(
        mirror
            .add_worktree(jobs.join("crashed"), &oid(&base))
            .expect("retry"),
    );
    assert!(mirror
        .add_worktree(jobs.join("unrelated"), &oid(&base))
        .is_err());

    assert_eq!(
        mirror
            .prune_stale_worktrees(&jobs, &|_| false)
            .expect("prune"),
        1
    );
    assert!(!jobs.join("crashed").exists());
    assert!(
        jobs.join("unrelated").exists(),
        "never deletes what is not a worktree"
    );
    let list = common::git(mirror.dir(), &["worktree", "list", "--porcelain"]);
    assert!(!list.contains("crashed"), "{list}");
}

#[test]
fn patch_id_ignores_position_and_whitespace() {
    let diff = |offset: usize, body: &str| {
        format!(
            "diff --git a/f b/f\nindex 1111111..2222222 100644\n--- a/f\n+++ b/f\n@@ -{offset},3 +{offset},3 @@\n a\n-{body}\n+{body} new\n c\n"
        )
    };
    let one = patch_id_stable(diff(1, "b").as_bytes())
        .expect("patch-id")
        .expect("a diff");
    let moved = patch_id_stable(diff(40, "b").as_bytes())
        .expect("patch-id")
        .expect("a diff");
    let other = patch_id_stable(diff(1, "x").as_bytes())
        .expect("patch-id")
        .expect("a diff");
    assert_eq!(one.len(), 40);
    assert_eq!(one, moved);
    assert_ne!(one, other);
    assert_eq!(patch_id_stable(b"no diff here\n").expect("patch-id"), None);
}
