//! Series that upstream merged before patchgate saw them (an archive
//! replayed later): `git am -3` "applies" them as no-ops on the head. A
//! patch that changes nothing means the series is not applied there.

use crate::repo::{commit, format_patch, git, numbered_lines, passing_tree_config, publish, repo};
use crate::util::Env;

const T0: i64 = 1_600_000_000;
const DAY: i64 = 86_400;

fn lines(changes: &[(usize, &str)]) -> String {
    numbered_lines(20, changes)
}

fn config(env: &Env) {
    passing_tree_config(env.path());
}

/// Two patches on a topic branch posted at T0+DAY; returns the work repo
/// (on master) and the mbox.
fn two_patches(env: &Env) -> (std::path::PathBuf, Vec<u8>) {
    let work = repo(env.path(), "a.txt", &lines(&[]), T0);
    git(&work, T0 + DAY, &["checkout", "-q", "-b", "topic"]);
    commit(
        &work,
        "a.txt",
        &lines(&[(3, "three")]),
        "a: spell out three",
        T0 + DAY,
    );
    commit(
        &work,
        "a.txt",
        &lines(&[(3, "three"), (15, "fifteen")]),
        "a: spell out fifteen",
        T0 + DAY,
    );
    let mbox = format_patch(&work, "master..topic", T0 + DAY);
    git(&work, T0 + DAY, &["checkout", "-q", "master"]);
    (work, mbox)
}

fn ingest_and_test(env: &Env, mbox: &[u8]) -> serde_json::Value {
    std::fs::write(env.path().join("list.mbox"), mbox).expect("mbox");
    config(env);
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    env.json(&["test", "1", "--json"])
}

#[test]
fn a_series_merged_after_its_posting_is_tested_where_it_was_made_and_marked_landed() {
    let env = Env::new("");
    let (work, mbox) = two_patches(&env);
    let made_on = git(&work, T0, &["rev-parse", "master"]);
    // Upstream merged it later (as a maintainer's `b4 am` would).
    git(&work, T0 + 3 * DAY, &["merge", "-q", "--ff-only", "topic"]);
    let landed = git(&work, T0, &["rev-parse", "HEAD"]);
    commit(&work, "b.txt", "more\n", "b: unrelated", T0 + 4 * DAY);
    publish(&work, &env.path().join("up.git"));
    let report = ingest_and_test(&env, &mbox);
    assert_eq!(report["applied"], true, "{report:#}");
    assert_eq!(report["base"], made_on.as_str(), "{report:#}");
    assert_ne!(report["head"], report["base"], "{report:#}");
    assert_eq!(report["verdict"], "pass", "{report:#}");
    let commits = report["already_applied"]["landed"].to_string();
    assert!(commits.contains(&landed), "{report:#}");
    let list = env.json(&["series", "list", "--json"]);
    assert_eq!(list[0]["state"], "merged", "{list:#}");
}

#[test]
fn a_series_already_on_every_base_says_where_and_never_passes() {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", &lines(&[]), T0);
    // Made on a tree of the author's own, which upstream never had; the
    // maintainer applied it with a three-way merge, and then it was sent
    // again.
    git(&work, T0, &["checkout", "-q", "-b", "local"]);
    commit(&work, "a.txt", &lines(&[(1, "one, locally")]), "local", T0);
    git(&work, T0, &["checkout", "-q", "-b", "topic"]);
    // Posted (again) on the third day, after it landed on the second.
    commit(
        &work,
        "a.txt",
        &lines(&[(1, "one, locally"), (15, "fifteen")]),
        "a: spell out fifteen",
        T0 + 3 * DAY,
    );
    git(&work, T0, &["checkout", "-q", "master"]);
    git(&work, T0 + 2 * DAY, &["cherry-pick", "topic"]);
    let landed = git(&work, T0, &["rev-parse", "HEAD"]);
    let mbox = format_patch(&work, "local..topic", T0 + 3 * DAY);
    git(&work, T0, &["branch", "-D", "local", "topic"]);
    publish(&work, &env.path().join("up.git"));
    let report = ingest_and_test(&env, &mbox);
    assert_eq!(report["applied"], false, "{report:#}");
    assert_eq!(report["verdict"], "fail", "{report:#}");
    assert!(report["head"].is_null(), "{report:#}");
    let why = report["apply_error"].as_str().unwrap_or("");
    assert!(why.contains("already in master as "), "{why}");
    assert!(why.contains(&landed[..12]), "{why}");
    let list = env.json(&["series", "list", "--json"]);
    assert_eq!(list[0]["state"], "merged", "{list:#}");
}

#[test]
fn a_partly_landed_series_falls_back_to_the_base_it_was_posted_on() {
    let env = Env::new("");
    let (work, mbox) = two_patches(&env);
    let posted_on = git(&work, T0, &["rev-parse", "master"]);
    // Only the first patch landed upstream, after the posting.
    git(&work, T0 + 3 * DAY, &["cherry-pick", "topic~1"]);
    publish(&work, &env.path().join("up.git"));
    let report = ingest_and_test(&env, &mbox);
    assert_eq!(report["applied"], true, "{report:#}");
    assert_eq!(report["base"], posted_on.as_str(), "{report:#}");
    assert_eq!(report["verdict"], "pass", "{report:#}");
}

#[test]
fn a_base_where_the_series_applies_as_posted_beats_a_three_way_merge() {
    let env = Env::new("");
    let (work, mbox) = two_patches(&env);
    let posted_on = git(&work, T0, &["rev-parse", "master"]);
    // Master moved a line next to patch 2's hunk: `am` needs -3 there.
    commit(
        &work,
        "a.txt",
        &lines(&[(17, "seventeen")]),
        "a: spell out seventeen",
        T0 + 3 * DAY,
    );
    publish(&work, &env.path().join("up.git"));
    let report = ingest_and_test(&env, &mbox);
    assert_eq!(report["applied"], true, "{report:#}");
    assert_eq!(report["base"], posted_on.as_str(), "{report:#}");
    let why = report["base_reason"].as_str().unwrap_or("");
    assert!(
        why.contains("whose files are those the patches were made against"),
        "{why}"
    );
    assert!(!why.contains("three-way"), "{why}");
}

#[test]
fn a_three_way_merge_is_named_when_no_base_takes_the_series_as_posted() {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", &lines(&[]), T0);
    // Made on a tree of the author's own that master never had.
    git(&work, T0, &["checkout", "-q", "-b", "local"]);
    commit(&work, "a.txt", &lines(&[(1, "one, locally")]), "local", T0);
    git(&work, T0, &["checkout", "-q", "-b", "topic"]);
    commit(
        &work,
        "a.txt",
        &lines(&[(1, "one, locally"), (15, "fifteen")]),
        "a: spell out fifteen",
        T0 + DAY,
    );
    let mbox = format_patch(&work, "local..topic", T0 + DAY);
    git(&work, T0, &["checkout", "-q", "master"]);
    commit(
        &work,
        "a.txt",
        &lines(&[(17, "seventeen")]),
        "a: seventeen",
        T0 + 10,
    );
    publish(&work, &env.path().join("up.git"));
    let report = ingest_and_test(&env, &mbox);
    assert_eq!(report["applied"], true, "{report:#}");
    let why = report["base_reason"].as_str().unwrap_or("");
    assert!(
        why.contains("patch 1 did not apply as posted and went on by a three-way merge"),
        "{why}"
    );
}
