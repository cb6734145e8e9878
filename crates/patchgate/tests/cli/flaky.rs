//! A flaky test that happened to fail on the base's first run must not be
//! "fixed" by every series that passes it, nor "pre-existing" when both
//! fail once: the base is rerun (up to the suite's retries, once per base,
//! shared by every series on it) before either is said.

use crate::repo::{commit, format_patch, git, publish, repo};
use crate::util::Env;

const T0: i64 = 1_600_000_000;

/// A TAP suite whose test `wobbly` fails on a worktree's first run and
/// passes after (a marker left in the worktree), and `steady` passes.
const SUITE: &str = "if [ -e .ran ]; then w=ok; else w='not ok'; fi; touch .ran\n\
                     printf '1..2\\n%s 1 - wobbly\\nok 2 - steady\\n' \"$w\"\n";

#[test]
fn a_test_failing_once_on_the_base_is_rerun_there_before_it_is_called_fixed() {
    let env = Env::new("");
    let work = repo(env.path(), "unit.sh", SUITE, T0);
    git(&work, T0, &["checkout", "-q", "-b", "topic"]);
    commit(&work, "b.txt", "two\n", "b: add", T0 + 60);
    let mbox = format_patch(&work, "master..topic", T0 + 60);
    git(&work, T0, &["checkout", "-q", "master"]);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        "[tree.t]\nrepo = \"up.git\"\n[tree.t.suite.unit]\nrun = \"sh unit.sh\"\nformat = \"tap\"\nretries = 2\n",
    )
    .expect("config");
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    let report = env.json(&["test", "1", "--json"]);
    let tests = &report["suites"][0]["tests"];
    let class = |name: &str| {
        tests
            .as_array()
            .and_then(|t| t.iter().find(|x| x["name"] == name))
            .map(|x| x["class"].clone())
    };
    assert_eq!(class("wobbly"), Some("flaky".into()), "{report:#}");
    assert_eq!(class("steady"), Some("ok".into()), "{report:#}");
    assert_eq!(report["verdict"], "pass", "{report:#}");
}

#[test]
fn a_build_broken_on_the_base_neither_passes_nor_blames_the_series() {
    let env = Env::new("");
    let work = repo(env.path(), "build.sh", "echo broken; exit 2\n", T0);
    git(&work, T0, &["checkout", "-q", "-b", "topic"]);
    commit(&work, "b.txt", "two\n", "b: add", T0 + 60);
    let mbox = format_patch(&work, "master..topic", T0 + 60);
    git(&work, T0, &["checkout", "-q", "master"]);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        "[tree.t]\nrepo = \"up.git\"\n[tree.t.suite.build]\nrun = \"sh build.sh\"\nretries = 1\n",
    )
    .expect("config");
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    let report = env.json(&["test", "1", "--json"]);
    assert_eq!(report["verdict"], "fail", "{report:#}");
    let rule = &report["rules"][1];
    assert_eq!(rule["name"], "build", "{report:#}");
    assert_eq!(rule["status"], "pending", "{report:#}");
    let reason = rule["reason"].as_str().unwrap_or("");
    assert!(
        reason.starts_with("the base is broken: build fails on the base"),
        "{reason}"
    );
    let suite = &report["suites"][0];
    assert!(suite["tests"][0]["class"] != "regression", "{report:#}");
}

#[test]
fn what_the_base_run_leaves_in_the_worktree_is_gone_before_the_series_runs() {
    let env = Env::new("");
    // Fails when it finds what an earlier run left: a build output, an
    // ignored file, a changed tracked file.
    let check = "if [ -e out.o ] || [ -e cache.tmp ] || grep -q dirty a.txt; then echo 'not pristine'; exit 1; fi\n\
                 touch out.o cache.tmp; echo dirty >> a.txt\n";
    let work = repo(env.path(), "check.sh", check, T0);
    commit(&work, "a.txt", "one\n", "a", T0);
    commit(&work, ".gitignore", "*.tmp\n", "ignore", T0);
    git(&work, T0, &["checkout", "-q", "-b", "topic"]);
    commit(&work, "b.txt", "two\n", "b: add", T0 + 60);
    let mbox = format_patch(&work, "master..topic", T0 + 60);
    git(&work, T0, &["checkout", "-q", "master"]);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        "[tree.t]\nrepo = \"up.git\"\n[tree.t.suite.check]\nrun = \"sh check.sh\"\n",
    )
    .expect("config");
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    let report = env.json(&["test", "1", "--json"]);
    assert_eq!(report["verdict"], "pass", "{report:#}");
    assert_eq!(report["suites"][0]["status"], "pass", "{report:#}");
}
