//! A worker killed with SIGKILL mid-job loses nothing: once its lease ends
//! another worker runs the job again, and the result is stored once.

use crate::repo::{commit, format_patch, git, publish, repo};
use crate::util::Env;
use patchgate_store::Store;
use patchgate_store_sqlite::SqliteStore;
use std::time::{Duration, Instant};

const T0: i64 = 1_650_000_000;

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn worker_killed_mid_job_loses_nothing() {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", "one\n", T0);
    git(&work, T0 + 60, &["checkout", "-q", "-b", "topic"]);
    commit(&work, "b.txt", "two\n", "add b", T0 + 60);
    let mbox = format_patch(&work, "master..topic", T0 + 60);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        r#"
[[source]]
path = "list.mbox"
[tree.t]
repo = "up.git"
[tree.t.suite.slow]
run = "sleep 2"
"#,
    )
    .expect("config");

    // Ingest and schedule only; the jobs are left to workers.
    env.ok(&["run", "--jobs", "0"]);
    let jobs = env.json(&["jobs", "--json"]);
    assert_eq!(jobs.as_array().map(Vec::len), Some(1), "{jobs:#}");

    let mut first = env
        .cmd()
        .args(["worker", "--lease", "2", "--until-idle", "--name", "first"])
        .spawn()
        .expect("worker");
    wait_for("the suite to start", Duration::from_secs(30), || {
        let history = env.json(&["series", "history", "1", "--json"]);
        history
            .as_array()
            .is_some_and(|events| events.iter().any(|e| e["kind"] == "testing"))
    });
    std::thread::sleep(Duration::from_millis(500));
    first.kill().expect("SIGKILL the worker");
    first.wait().expect("reap");
    let running = env.json(&["jobs", "--json"]);
    assert_eq!(
        running[0]["status"], "running",
        "the dead worker still holds it: {running:#}"
    );

    env.ok(&["worker", "--lease", "2", "--until-idle", "--name", "second"]);

    let jobs = env.json(&["jobs", "--json"]);
    assert_eq!(jobs[0]["status"], "done", "{jobs:#}");
    assert_eq!(jobs[0]["attempts"], 2);
    assert_eq!(jobs[0]["worker"], "second");
    let history = env.json(&["series", "history", "1", "--json"]);
    let verdicts = history.as_array().map(|h| {
        h.iter()
            .filter(|e| e["kind"] == "tested-pass" || e["kind"] == "tested-fail")
            .count()
    });
    assert_eq!(verdicts, Some(1), "one verdict: {history:#}");

    // The killed attempt left no run; the base's and the series' runs are
    // each stored once.
    let store = SqliteStore::open(env.path().join(".patchgate/patchgate.sqlite")).expect("store");
    let results = store.test_results("slow", "slow").expect("results");
    let h = patchgate_gate::fold(results.iter().map(|(c, s)| (c.as_str(), s.as_str())));
    assert_eq!(h.runs, 2, "{h:?}");
    assert_eq!(h.failures, 0);
    // Nothing of the dead worker is left behind once a worker ran again.
    let work_dirs = std::fs::read_dir(env.path().join(".patchgate/work"))
        .expect("work dir")
        .count();
    assert_eq!(work_dirs, 0, "worktrees are removed, the dead worker's too");
}

#[test]
fn a_crash_while_finishing_a_job_strands_nothing() {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", "one\n", T0);
    git(&work, T0 + 60, &["checkout", "-q", "-b", "topic"]);
    commit(&work, "b.txt", "two\n", "add b", T0 + 60);
    let mbox = format_patch(&work, "master..topic", T0 + 60);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        "[[source]]\npath = \"list.mbox\"\n[tree.t]\nrepo = \"up.git\"\n[tree.t.suite.ok]\nrun = \"true\"\n",
    )
    .expect("config");
    env.ok(&["run", "--jobs", "0"]);
    // The process dies after the job's end, its verdict and its event are
    // written and before they are committed: the old way, the job would be
    // done, the verdict missing and the series in `testing` for ever.
    let crashed = env
        .cmd()
        .args([
            "worker",
            "--lease",
            "1",
            "--until-idle",
            "--name",
            "crashing",
        ])
        .env("PATCHGATE_FAULT_POINT", "finish-job-before-commit")
        .output()
        .expect("worker");
    assert!(
        !crashed.status.success(),
        "the fault point aborts the worker"
    );
    let jobs = env.json(&["jobs", "--json"]);
    assert_eq!(
        jobs[0]["status"], "running",
        "nothing of the end was kept: {jobs:#}"
    );
    let history = env.json(&["series", "history", "1", "--json"]);
    let kinds: Vec<&str> = history
        .as_array()
        .map(|h| h.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(!kinds.contains(&"tested-pass"), "{kinds:?}");

    // Once the lease is over another worker finishes it, once.
    std::thread::sleep(Duration::from_millis(1100));
    env.ok(&["worker", "--lease", "1", "--until-idle", "--name", "second"]);
    let jobs = env.json(&["jobs", "--json"]);
    assert_eq!(jobs[0]["status"], "done", "{jobs:#}");
    let history = env.json(&["series", "history", "1", "--json"]);
    let verdicts = history
        .as_array()
        .map(|h| h.iter().filter(|e| e["kind"] == "tested-pass").count());
    assert_eq!(verdicts, Some(1), "{history:#}");
    let list = env.json(&["series", "list", "--json"]);
    assert_eq!(list[0]["state"], "tested-pass", "{list:#}");
}

#[test]
fn a_job_of_a_kind_no_handler_runs_fails_at_once_and_says_so() {
    let env = Env::new("[tree.t]\nrepo = \"up.git\"\n");
    env.ok(&["series", "list"]);
    let mut store =
        SqliteStore::open(env.path().join(".patchgate/patchgate.sqlite")).expect("store");
    store
        .enqueue_job(&patchgate_store::NewJob::new("bisect", "t"), 0)
        .expect("enqueue");
    drop(store);
    env.ok(&["worker", "--until-idle"]);
    let jobs = env.json(&["jobs", "--json"]);
    assert_eq!(jobs[0]["status"], "failed", "{jobs:#}");
    assert_eq!(jobs[0]["attempts"], 1, "not retried: {jobs:#}");
    let outcome = jobs[0]["outcome"].to_string();
    assert!(
        outcome.contains("kind `bisect`, which no handler"),
        "{outcome}"
    );
}

#[test]
fn a_job_is_tested_in_the_tree_and_for_the_branch_it_was_scheduled_for() {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", "one\n", T0);
    git(&work, T0 + 60, &["checkout", "-q", "-b", "topic"]);
    commit(&work, "b.txt", "two\n", "add b", T0 + 60);
    let mbox = format_patch(&work, "master..topic", T0 + 60);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        "[[source]]\npath = \"list.mbox\"\n[tree.t]\nrepo = \"up.git\"\n\
         [tree.t.suite.ok]\nrun = \"true\"\n\
         [tree.t.branch.queue]\nrequires = [\"ok\"]\n\
         [tree.t.branch.next]\nrequires = [\"ok\", \"reviews >= 1\"]\n",
    )
    .expect("config");
    env.ok(&["run", "--jobs", "0"]);
    let jobs = env.json(&["jobs", "--json"]);
    assert_eq!(jobs[0]["tree"], "t", "{jobs:#}");
    assert_eq!(jobs[0]["payload"]["branch"], "queue", "{jobs:#}");
    env.ok(&["worker", "--until-idle"]);
    let history = env.json(&["series", "history", "1", "--json"]);
    let verdict = history
        .as_array()
        .and_then(|h| h.iter().find(|e| e["kind"] == "tested-pass"))
        .unwrap_or_else(|| panic!("{history:#}"));
    assert_eq!(verdict["detail"]["branch"], "queue", "{history:#}");
}
