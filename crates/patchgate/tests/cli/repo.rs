//! Git repositories made in a test with fixed identities and dates, and
//! the upstream patchgate clones: what the test-stage tests apply series
//! to.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Run git in `dir` with a fixed identity and date, no user configuration.
pub fn git(dir: &Path, date: i64, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ann Author")
        .env("GIT_AUTHOR_EMAIL", "ann@example.org")
        .env("GIT_COMMITTER_NAME", "Ann Author")
        .env("GIT_COMMITTER_EMAIL", "ann@example.org")
        .env("GIT_AUTHOR_DATE", format!("@{date} +0000"))
        .env("GIT_COMMITTER_DATE", format!("@{date} +0000"))
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A work repository with one file, committed on master at `date`.
pub fn repo(dir: &Path, file: &str, text: &str, date: i64) -> PathBuf {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).expect("work dir");
    git(&work, date, &["init", "-q", "--initial-branch=master"]);
    commit(&work, file, text, "initial", date);
    work
}

pub fn commit(work: &Path, file: &str, text: &str, subject: &str, date: i64) -> String {
    std::fs::write(work.join(file), text).expect("write");
    git(work, date, &["add", "-A"]);
    git(work, date, &["commit", "-q", "-m", subject]);
    git(work, date, &["rev-parse", "HEAD"])
}

/// `git format-patch` of `range` as one mbox, dated `date`.
pub fn format_patch(work: &Path, range: &str, date: i64) -> Vec<u8> {
    let out = git(
        work,
        date,
        &["format-patch", "--stdout", "--thread=shallow", range],
    );
    let mut bytes = out.into_bytes();
    bytes.push(b'\n');
    bytes
}

/// A bare clone that patchgate treats as the upstream repository.
pub fn publish(work: &Path, bare: &Path) {
    let status = Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(work)
        .arg(bare)
        .status()
        .expect("clone");
    assert!(status.success());
}

/// A text of `count` lines `line 1`, `line 2`, … with the given lines
/// replaced: files whose hunks the tests place at known distances.
pub fn numbered_lines(count: usize, changes: &[(usize, &str)]) -> String {
    (1..=count)
        .map(|i| {
            changes
                .iter()
                .find(|(n, _)| *n == i)
                .map_or_else(|| format!("line {i}"), |(_, t)| t.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// A patchgate.toml in `dir` with tree `t` on `up.git` and one suite that
/// always passes: for tests about applying, not about suites.
pub fn passing_tree_config(dir: &Path) {
    std::fs::write(
        dir.join("patchgate.toml"),
        "[tree.t]\nrepo = \"up.git\"\n[tree.t.suite.true]\nrun = \"true\"\n",
    )
    .expect("config");
}
