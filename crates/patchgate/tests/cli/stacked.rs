//! Series posted on top of another series still on the list (the same
//! author's earlier one, most often), and patches for another project sent
//! to this list.

use crate::repo::{commit, format_patch, git, numbered_lines, passing_tree_config, publish, repo};
use crate::util::Env;

const T0: i64 = 1_600_000_000;
const DAY: i64 = 86_400;

fn lines(changes: &[(usize, &str)]) -> String {
    numbered_lines(12, changes)
}

fn config(env: &Env) {
    passing_tree_config(env.path());
}

#[test]
fn a_series_built_on_an_earlier_one_is_applied_on_top_of_it_and_judged_alone() {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", &lines(&[]), T0);
    git(&work, T0, &["checkout", "-q", "-b", "first"]);
    commit(
        &work,
        "a.txt",
        &lines(&[(3, "three")]),
        "a: spell out three",
        T0 + DAY,
    );
    let first = format_patch(&work, "master..first", T0 + DAY);
    git(&work, T0, &["checkout", "-q", "-b", "second"]);
    commit(
        &work,
        "a.txt",
        &lines(&[(3, "three"), (4, "four")]),
        "a: spell out four",
        T0 + 2 * DAY,
    );
    commit(&work, "b.txt", "bee\n", "b: add", T0 + 2 * DAY);
    let second = format_patch(&work, "first..second", T0 + 2 * DAY);
    git(&work, T0, &["checkout", "-q", "master"]);
    // Neither is upstream; only master is published.
    git(&work, T0, &["branch", "-D", "first", "second"]);
    publish(&work, &env.path().join("up.git"));
    let mut mbox = first;
    mbox.extend_from_slice(&second);
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    config(&env);
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    let series = env.json(&["series", "list", "--json"]);
    let id_of = |title: &str| {
        series
            .as_array()
            .and_then(|s| s.iter().find(|x| x["subject"].as_str() == Some(title)))
            .map(|x| x["id"].to_string())
            .unwrap_or_else(|| panic!("no series {title}: {series:#}"))
    };
    let second_id = id_of("a: spell out four");
    let report = env.json(&["test", &second_id, "--json"]);
    assert_eq!(report["applied"], true, "{report:#}");
    let why = report["base_reason"].as_str().unwrap_or("");
    assert!(why.contains("on top of series"), "{why}");
    assert!(why.contains("a: spell out three"), "{why}");
    assert!(
        why.contains("start from the blobs that series leaves"),
        "{why}"
    );
    assert_eq!(report["verdict"], "pass", "{report:#}");
    // Judged from the end of the prerequisite: the base is its commit, not
    // master's.
    let master = git(&env.path().join("up.git"), T0, &["rev-parse", "master"]);
    assert_ne!(report["base"], master.as_str(), "{report:#}");
    let head = report["head"].as_str().expect("head").to_string();
    let mirror = env.path().join(".patchgate/mirrors/t.git");
    let count = git(
        &mirror,
        T0,
        &[
            "rev-list",
            "--count",
            &format!("{}..{head}", report["base"].as_str().unwrap_or("")),
        ],
    );
    assert_eq!(count, "2", "only its own two patches are judged");
}

#[test]
fn a_patch_for_another_project_is_not_for_this_tree() {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", &lines(&[]), T0);
    // A kernel patch cc'd to this list: made in a tree that has a file
    // this one does not.
    let other = env.path().join("kernel");
    std::fs::create_dir_all(&other).expect("mkdir");
    git(&other, T0, &["init", "-q", "--initial-branch=master"]);
    std::fs::create_dir_all(other.join("kernel")).expect("mkdir");
    commit(&other, "kernel/sched.c", "int x;\n", "sched", T0);
    commit(
        &other,
        "kernel/sched.c",
        "int y;\n",
        "sched: rename x",
        T0 + DAY,
    );
    let mbox = format_patch(&other, "HEAD~1..HEAD", T0 + DAY);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    config(&env);
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    let report = env.json(&["test", "1", "--json"]);
    assert_eq!(report["applied"], false, "{report:#}");
    let why = report["apply_error"].as_str().unwrap_or("");
    assert!(
        why.contains("not for this tree: the series changes kernel/sched.c"),
        "{why}"
    );
    assert!(why.contains("nothing here is its fault"), "{why}");
    assert_eq!(report["apply_failure"]["not_for_tree"][0], "kernel/sched.c");
}

#[test]
fn a_prerequisite_named_by_based_on_is_applied_first_whoever_posted_it() {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", &lines(&[]), T0);
    git(&work, T0, &["checkout", "-q", "-b", "first"]);
    commit(
        &work,
        "a.txt",
        &lines(&[(3, "three")]),
        "a: spell out three",
        T0 + DAY,
    );
    let first = String::from_utf8(format_patch(&work, "master..first", T0 + DAY)).expect("utf-8");
    let first_id = first
        .lines()
        .find_map(|l| {
            l.strip_prefix("Message-ID: <")
                .or_else(|| l.strip_prefix("Message-Id: <"))
        })
        .map(|v| v.trim_end_matches('>').to_string())
        .expect("a Message-ID");
    // Someone else builds on it.
    git(&work, T0, &["checkout", "-q", "-b", "second"]);
    std::fs::write(work.join("a.txt"), lines(&[(3, "three"), (4, "four")])).expect("write");
    git(&work, T0 + 2 * DAY, &["add", "-A"]);
    git(
        &work,
        T0 + 2 * DAY,
        &[
            "commit",
            "-q",
            "--author",
            "Bob Builder <bob@example.org>",
            "-m",
            "a: spell out four\n\nSigned-off-by: Bob Builder <bob@example.org>",
        ],
    );
    let second = git(
        &work,
        T0 + 2 * DAY,
        &[
            "format-patch",
            "--stdout",
            "--thread=shallow",
            "--cover-letter",
            "first..second",
        ],
    )
    .replace("*** SUBJECT HERE ***", "four on top of three")
    .replace("*** BLURB HERE ***", &format!("Based-on: <{first_id}>"));
    git(&work, T0, &["checkout", "-q", "master"]);
    git(&work, T0, &["branch", "-D", "first", "second"]);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), format!("{first}{second}\n")).expect("mbox");
    config(&env);
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    let series = env.json(&["series", "list", "--json"]);
    let id = series
        .as_array()
        .and_then(|s| s.iter().find(|x| x["subject"] == "four on top of three"))
        .map(|x| x["id"].to_string())
        .unwrap_or_else(|| panic!("{series:#}"));
    let report = env.json(&["test", &id, "--json"]);
    assert_eq!(report["applied"], true, "{report:#}");
    let why = report["base_reason"].as_str().unwrap_or("");
    assert!(
        why.contains("its cover letter names it (Based-on: <"),
        "{why}"
    );
}
