//! A tiny harness: a folder with a patchgate.toml, the built binary run
//! against it, and a git repository made in the test with fixed dates.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Env {
    root: PathBuf,
    config: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Env {
    /// A new temporary folder holding `config` as its patchgate.toml.
    pub fn new(config: &str) -> Env {
        let temp = tempfile::tempdir().expect("temp dir");
        let root = temp.path().to_path_buf();
        std::fs::write(root.join("patchgate.toml"), config).expect("config");
        Env {
            config: root.join("patchgate.toml"),
            root,
            _temp: Some(temp),
        }
    }

    /// An existing configuration file (kept alive by its owner).
    pub fn existing(config: PathBuf) -> Env {
        let root = config.parent().expect("config has a folder").to_path_buf();
        Env {
            root,
            config,
            _temp: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_patchgate"));
        c.arg("--config").arg(&self.config);
        c
    }

    /// Run and require success; stdout as text.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "patchgate {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run patchgate")
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "patchgate {args:?} printed no JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

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
