//! Series written to escape: a patch that turns the suite's folder into a
//! symlink out of the tree, or leaves a report file that is a FIFO or a link
//! to a host file. The run must fail as the series' doing, the host must be
//! untouched and nothing may hang.

use std::path::Path;

use crate::repo::{commit, format_patch, git, publish, repo};
use crate::util::Env;

const T0: i64 = 1_600_000_000;

/// A tree with `tests/run.sh`, and a series (patch 1 on branch `evil`) made
/// by `change` in the work repository. Returns the env, ready to `test 1`.
fn tree_and_series(config_suite: &str, change: impl FnOnce(&Path)) -> Env {
    let env = Env::new("");
    let work = repo(env.path(), "README", "calc\n", T0);
    std::fs::create_dir_all(work.join("tests")).expect("mkdir");
    commit(&work, "tests/run.sh", "echo ok\n", "tests: add run.sh", T0);
    git(&work, T0, &["checkout", "-q", "-b", "evil"]);
    change(&work);
    git(&work, T0 + 60, &["add", "-A"]);
    git(
        &work,
        T0 + 60,
        &["commit", "-q", "-m", "tests: move things around"],
    );
    let mbox = format_patch(&work, "master..evil", T0 + 60);
    git(&work, T0, &["checkout", "-q", "master"]);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        format!("[tree.t]\nrepo = \"up.git\"\n[tree.t.suite.unit]\n{config_suite}\n"),
    )
    .expect("config");
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    env
}

fn replace_with_link(work: &Path, target: &str) {
    std::fs::remove_dir_all(work.join("tests")).expect("rm tests");
    std::os::unix::fs::symlink(target, work.join("tests")).expect("symlink");
}

#[test]
fn a_workdir_turned_into_a_symlink_to_a_host_folder_is_refused() {
    let host = tempfile::tempdir().expect("host dir");
    let target = host.path().to_str().expect("utf-8").to_string();
    let env = tree_and_series(
        "run = \"touch escaped; sh run.sh\"\nworkdir = \"tests\"",
        |w| replace_with_link(w, &target),
    );
    let report = env.json(&["test", "1", "--json"]);
    assert_eq!(report["applied"], true, "{report:#}");
    assert_eq!(report["verdict"], "fail", "{report:#}");
    let suite = &report["suites"][0];
    assert_eq!(suite["status"], "error", "{report:#}");
    let text = report.to_string();
    assert!(text.contains("outside the tree"), "{report:#}");
    assert_eq!(
        std::fs::read_dir(host.path()).expect("host dir").count(),
        0,
        "the suite wrote into the host folder"
    );
}

#[test]
fn a_workdir_turned_into_a_symlink_to_the_state_dir_is_refused() {
    // Worktrees live under .patchgate/, beside the database: `../..` and
    // longer chains from the worktree reach it.
    for target in ["../..", "../../..", "../../../..", ".."] {
        let env = tree_and_series("run = \"touch escaped; ls\"\nworkdir = \"tests\"", |w| {
            replace_with_link(w, target)
        });
        let report = env.json(&["test", "1", "--json"]);
        assert_eq!(report["verdict"], "fail", "{target}: {report:#}");
        assert_eq!(
            report["suites"][0]["status"], "error",
            "{target}: {report:#}"
        );
        assert!(
            report.to_string().contains("outside the tree"),
            "{target}: {report:#}"
        );
        let state = env.path().join(".patchgate");
        assert!(!state.join("escaped").exists() && !env.path().join("escaped").exists());
        // The base ran in its own tests/ and passed: only the series fails.
        let db = state.join("patchgate.sqlite");
        assert!(db.is_file(), "{target}: the database is still there");
    }
}

#[test]
fn a_junit_report_that_is_a_fifo_or_a_host_link_is_not_read() {
    for (name, make) in [
        ("fifo", "mkfifo report.xml"),
        ("host link", "ln -s /etc/passwd report.xml"),
        ("link loop", "ln -s a b; ln -s b a; ln -s a report.xml"),
    ] {
        let env = tree_and_series(
            &format!("run = \"{make}\"\nformat = \"junit:report.xml\""),
            |w| {
                std::fs::write(w.join("tests/run.sh"), "echo changed\n").expect("write");
            },
        );
        let out = env.run(&["test", "1", "--json"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
        let text = report.to_string();
        assert!(text.contains("JUnit report"), "{name}: {report:#}");
        assert!(!text.contains("root:x:0:0"), "{name}: a host file was read");
        assert_eq!(report["verdict"], "fail", "{name}: {report:#}");
    }
}
