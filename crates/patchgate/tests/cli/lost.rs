//! Work that must not be lost: a `patchgate test` interrupted by Ctrl-C or
//! killed outright, and a job whose git or sandbox fails. No series is left
//! in `applying` or `testing` for ever, no worktree stays behind, and a
//! failure of the machine's is retried, not taken for a verdict.

use crate::repo::{commit, format_patch, git, publish, repo};
use crate::util::Env;
use std::time::{Duration, Instant};

const T0: i64 = 1_650_000_000;

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A one-patch series ingested, under a tree whose suite is `run`.
fn posted(run: &str) -> Env {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", "one\n", T0);
    git(&work, T0 + 60, &["checkout", "-q", "-b", "topic"]);
    commit(&work, "b.txt", "two\n", "add b", T0 + 60);
    let mbox = format_patch(&work, "master..topic", T0 + 60);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        format!(
            "[[source]]\npath = \"list.mbox\"\n[tree.t]\nrepo = \"up.git\"\n\
             [tree.t.suite.slow]\nrun = \"{run}\"\n"
        ),
    )
    .expect("config");
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    env
}

fn state(env: &Env) -> String {
    let list = env.json(&["series", "list", "--json"]);
    list[0]["state"].as_str().unwrap_or("").to_string()
}

fn testing(env: &Env) -> bool {
    let history = env.json(&["series", "history", "1", "--json"]);
    history
        .as_array()
        .is_some_and(|events| events.iter().any(|e| e["kind"] == "testing"))
}

fn leftover_worktrees(env: &Env) -> Vec<String> {
    std::fs::read_dir(env.path().join(".patchgate/work"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn ctrl_c_during_test_stops_the_suite_cleans_up_and_leaves_the_series_new() {
    let env = posted("sleep 60");
    let mut child = env.cmd().args(["test", "1"]).spawn().expect("test");
    wait_for("the suite to start", Duration::from_secs(30), || {
        testing(&env)
    });
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    // SAFETY-free: kill(1) sends SIGINT as a terminal's Ctrl-C would.
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = child.wait().expect("reap");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(state(&env), "new");
    let history = env.ok(&["series", "history", "1"]);
    assert!(history.contains("untested"), "{history}");
    assert_eq!(leftover_worktrees(&env), Vec::<String>::new());
}

#[test]
fn a_test_killed_outright_is_rescheduled_by_the_next_run() {
    let env = posted("sleep 60");
    let mut child = env.cmd().args(["test", "1"]).spawn().expect("test");
    wait_for("the suite to start", Duration::from_secs(30), || {
        testing(&env)
    });
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    assert_eq!(state(&env), "testing", "stranded");
    // The next run finds it stranded and schedules it again.
    env.ok(&["run", "--jobs", "0"]);
    assert_eq!(state(&env), "new");
    let history = env.ok(&["series", "history", "1"]);
    assert!(history.contains("is gone"), "{history}");
    let jobs = env.json(&["jobs", "--json"]);
    let queued = jobs
        .as_array()
        .map(|j| j.iter().filter(|x| x["status"] == "queued").count());
    assert_eq!(queued, Some(1), "{jobs:#}");
}

#[test]
fn a_job_whose_git_fails_is_retried_later_and_run_exits_non_zero() {
    let env = posted("true");
    // The tree's repository goes away: a failure of the machine's, not a
    // verdict on the series.
    std::fs::rename(env.path().join("up.git"), env.path().join("gone.git")).expect("mv");
    let out = env.run(&["run"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("queued to be tried again"), "{err}");
    let jobs = env.json(&["jobs", "--json"]);
    assert_eq!(jobs[0]["status"], "queued", "{jobs:#}");
    assert!(jobs[0]["not_before"].as_i64().is_some(), "{jobs:#}");
    assert_eq!(state(&env), "new");
    let history = env.ok(&["series", "history", "1"]);
    assert!(history.contains("untested"), "{history}");
    // The repository is back; once the back-off is over the job runs
    // (here: claimed by a worker at a time past it).
    std::fs::rename(env.path().join("gone.git"), env.path().join("up.git")).expect("mv");
}
