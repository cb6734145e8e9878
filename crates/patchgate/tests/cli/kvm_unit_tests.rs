//! The real thing: the 2022 kvmarm archive of kvm-unit-tests patches
//! replayed against the real kvm-unit-tests tree (master with its full
//! history, `tests/data/kvm-unit-tests.bundle`). Each test pins a series
//! upstream merged: patchgate applies it as one commit per patch whose
//! patch-ids are those of upstream's commits. `cargo xtask replay-kut`
//! checks every series of the archive the same way.

use crate::repo::git;
use crate::util::Env;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ARCHIVE: &str = "/work/shared/data/kvmarm-kvm-unit-tests-2022.mbox";

/// The tree cloned from the bundle as patchgate's upstream, and the archive
/// ingested.
fn replay() -> Env {
    let env = Env::new("");
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kvm-unit-tests.bundle");
    git(
        env.path(),
        0,
        &[
            "clone",
            "--quiet",
            "--bare",
            bundle.to_str().expect("utf-8"),
            "kut.git",
        ],
    );
    std::fs::write(
        env.path().join("patchgate.toml"),
        r#"
[tree.kut]
repo = "kut.git"
tag = ""
bases = ["master"]
[tree.kut.suite.true]
run = "true"
"#,
    )
    .expect("config");
    let summary = env.json(&["ingest", ARCHIVE, "--json"]);
    assert_eq!(summary["read"], 230, "{summary:#}");
    env
}

/// patchgate's mirror of the tree, where the applied commits are.
fn mirror(env: &Env) -> PathBuf {
    env.path().join(".patchgate/mirrors/kut.git")
}

/// `patchgate test SERIES --json`, required to have applied the series
/// with a head that is not its base; the commits between, oldest first.
fn applied(env: &Env, series: &str) -> (serde_json::Value, Vec<String>) {
    let report = env.json(&["test", series, "--json"]);
    assert_eq!(report["applied"], true, "{report:#}");
    let base = report["base"].as_str().expect("base").to_string();
    let head = report["head"].as_str().expect("head").to_string();
    assert_ne!(head, base, "a no-op: {report:#}");
    let commits = git(
        &mirror(env),
        0,
        &["rev-list", "--reverse", &format!("{base}..{head}")],
    );
    let commits = commits.lines().map(str::to_string).collect();
    (report, commits)
}

/// `git patch-id --stable` of one commit.
fn patch_id(repo: &Path, commit: &str) -> String {
    let diff = git(repo, 0, &["show", "--format=", commit]);
    let mut child = Command::new("git")
        .args(["patch-id", "--stable"])
        .current_dir(repo)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("git patch-id");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{diff}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("git patch-id");
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    out.split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("{commit} has no patch-id"))
        .to_string()
}

fn patch_ids(repo: &Path, commits: &[&str]) -> Vec<String> {
    commits.iter().map(|c| patch_id(repo, c)).collect()
}

#[test]
fn pmu_fixes_v4_applies_as_the_four_commits_upstream_merged() {
    let env = replay();
    let (report, commits) = applied(&env, "20220811185210.234711-1-ricarkol@google.com");
    assert_eq!(commits.len(), 4, "one commit per patch: {report:#}");
    let repo = mirror(&env);
    let got: Vec<&str> = commits.iter().map(String::as_str).collect();
    assert_eq!(
        patch_ids(&repo, &got),
        patch_ids(
            &repo,
            &[
                "e0a6e56b6314bda7f5e9292dc4a978b92074f5eb", // arm: pmu: Add missing isb()'s …
                "a73267406918042530c8fcccd03dcb3714c3b73e", // arm: pmu: Add reset_pmu() for 32-bit arm
                "1a97dad86e85828be9bdf0be61e62a580ae81a08", // arm: pmu: Reset the pmu registers …
                "b5489580141839222dd16aa0f37addeb3b1142d0", // arm: pmu: Check for overflow …
            ]
        ),
        "{report:#}"
    );
}

/// Posted on top of a series that is not in the archive (the debug
/// migration tests, committed to master three weeks after this posting):
/// the base is the commit upstream applied it to.
#[test]
fn debug_noinline_v2_stacked_on_an_earlier_series_applies_where_upstream_applied_it() {
    let env = replay();
    let (report, commits) = applied(&env, "20220112152155.2600645-1-ricarkol@google.com");
    let upstream = "30333fbc236e1c26f772084df04979576f9f0e83";
    let repo = mirror(&env);
    assert_eq!(
        report["base"].as_str(),
        Some(git(&repo, 0, &["rev-parse", &format!("{upstream}^")]).as_str()),
        "{report:#}"
    );
    assert_eq!(commits.len(), 1, "{report:#}");
    assert_eq!(patch_id(&repo, &commits[0]), patch_id(&repo, upstream));
}

/// Already on master: applied to the commit it was made against, and the
/// report names where it landed.
#[test]
fn typo_fix_already_on_master_applies_to_its_own_base_and_names_where_it_landed() {
    let env = replay();
    let (report, commits) = applied(&env, "20220311170850.2911898-1-thuth@redhat.com");
    let upstream = "7a84b7b2afb44063095a37411f3f9c59acd4dfbe";
    let repo = mirror(&env);
    assert_eq!(commits.len(), 1, "{report:#}");
    assert_eq!(patch_id(&repo, &commits[0]), patch_id(&repo, upstream));
    assert_eq!(
        report["already_applied"]["landed"][0]["commit"], upstream,
        "{report:#}"
    );
    assert_eq!(report["verdict"], "pass", "{report:#}");
}
