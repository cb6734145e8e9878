//! Helpers shared by the integration tests: scratch git repositories in
//! temporary directories, made with the real `git` and fixed identities and
//! dates so that commit ids are the same on every run.

#![allow(dead_code)] // each test binary uses a different part of this

use std::path::{Path, PathBuf};
use std::process::Command;

/// A `git` command isolated from the user's configuration, with fixed
/// author and committer.
pub fn git_command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LC_ALL", "C")
        .env("GIT_AUTHOR_NAME", "Ada Author")
        .env("GIT_AUTHOR_EMAIL", "ada@example.org")
        .env("GIT_COMMITTER_NAME", "Ada Author")
        .env("GIT_COMMITTER_EMAIL", "ada@example.org")
        .env("GIT_AUTHOR_DATE", "@1700000000 +0000")
        .env("GIT_COMMITTER_DATE", "@1700000000 +0000");
    command
}

/// Runs git and returns its stdout; panics with git's stderr on failure,
/// which is what a test wants.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = git_command(dir).args(args).output().expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An upstream repository with a working tree.
pub struct Upstream {
    pub dir: PathBuf,
}

impl Upstream {
    pub fn new(dir: PathBuf) -> Upstream {
        std::fs::create_dir_all(&dir).expect("scratch dir");
        git(&dir, &["init", "--quiet", "--initial-branch=master"]);
        Upstream { dir }
    }

    pub fn write(&self, path: &str, text: &str) {
        let file = self.dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).expect("scratch dir");
        }
        std::fs::write(file, text).expect("scratch file");
    }

    /// Commits everything with the given committer time; returns the id.
    pub fn commit(&self, message: &str, unix_time: i64) -> String {
        git(&self.dir, &["add", "-A"]);
        let date = format!("@{unix_time} +0000");
        let output = git_command(&self.dir)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .args(["commit", "--quiet", "-m", message])
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.head()
    }

    pub fn head(&self) -> String {
        git(&self.dir, &["rev-parse", "HEAD"]).trim().to_owned()
    }

    pub fn git(&self, args: &[&str]) -> String {
        git(&self.dir, args)
    }

    /// `git format-patch --stdout RANGE` as one mbox.
    pub fn format_patch(&self, range: &str) -> Vec<u8> {
        let output = git_command(&self.dir)
            .args(["format-patch", "--stdout", range])
            .output()
            .expect("git runs");
        assert!(output.status.success());
        output.stdout
    }
}

/// A file of `lines` numbered lines, for edits that touch distinct hunks.
pub fn numbered(lines: usize, tag: &str) -> String {
    (1..=lines).map(|n| format!("{tag} line {n}\n")).collect()
}
