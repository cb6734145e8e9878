//! Base selection: a series posted before the branch moved on is applied
//! to the branch as it stood at the posting's date, and the report says so.

use crate::repo::{commit, format_patch, git, publish, repo};
use crate::util::Env;

const T0: i64 = 1_600_000_000;
const DAY: i64 = 86_400;

fn lines(changed: &str) -> String {
    (1..=10)
        .map(|i| {
            if i == 5 {
                changed.to_string()
            } else {
                format!("line {i}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn series_posted_before_master_moved_is_tested_on_master_as_it_was() {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", &lines("line 5"), T0);
    let old_master = git(&work, T0, &["rev-parse", "HEAD"]);
    git(&work, T0 + DAY, &["checkout", "-q", "-b", "topic"]);
    commit(
        &work,
        "a.txt",
        &lines("line 5 from the topic"),
        "a: change line 5",
        T0 + DAY,
    );
    let mbox = format_patch(&work, "master..topic", T0 + DAY);
    git(&work, T0 + 2 * DAY, &["checkout", "-q", "master"]);
    commit(
        &work,
        "a.txt",
        &lines("line 5 on master"),
        "a: master changes line 5",
        T0 + 2 * DAY,
    );
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        r#"
[tree.t]
repo = "up.git"
[tree.t.suite.grep]
run = "grep -q topic a.txt"
"#,
    )
    .expect("config");

    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    let report = env.json(&["test", "1", "--json"]);
    assert_eq!(report["applied"], true, "{report:#}");
    assert_eq!(report["base"], old_master.as_str());
    let why = report["base_reason"].as_str().unwrap_or("");
    assert!(
        why.contains("as it stood when the series was posted")
            || why.contains("whose files are those the patches were made against"),
        "{why}"
    );
    assert_eq!(report["verdict"], "pass", "{report:#}");
    assert_eq!(report["suites"][0]["name"], "grep");
}

#[test]
fn series_that_applies_nowhere_is_a_verdict_naming_patch_and_files() {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", &lines("line 5"), T0);
    commit(
        &work,
        "a.txt",
        &lines("line 5 on master"),
        "a: master changes line 5",
        T0 + DAY,
    );
    git(
        &work,
        T0 + 2 * DAY,
        &["checkout", "-q", "-b", "topic", "HEAD~1"],
    );
    commit(
        &work,
        "a.txt",
        &lines("line 5 from the topic"),
        "a: change line 5",
        T0 + 2 * DAY,
    );
    // Posted after master moved: no earlier state of master to fall back to.
    let mbox = format_patch(&work, "master~1..topic", T0 + 2 * DAY);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        "[tree.t]\nrepo = \"up.git\"\n[tree.t.suite.true]\nrun = \"true\"\n",
    )
    .expect("config");
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    let out = env.run(&["test", "1", "--json"]);
    assert_eq!(out.status.code(), Some(1), "a failing verdict exits 1");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["applied"], false);
    assert_eq!(report["apply_failure"]["patch"], 1);
    assert_eq!(report["apply_failure"]["files"][0], "a.txt");
    let apply_error = report["apply_error"].as_str().unwrap_or("");
    assert!(apply_error.contains("conflicts in a.txt"), "{apply_error}");
    let history = env.ok(&["series", "history", "1"]);
    assert!(history.contains("apply-failed"), "{history}");
}
