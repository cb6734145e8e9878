//! The harness: a temporary folder with a `patchgate.toml`, the built binary
//! run against it, and real `git` in an isolated environment.
//!
//! Every test gets its own folder, so tests run in parallel without sharing a
//! store. Nothing here knows what a series is; the tests say that.

use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The real list archives beside the project (see their README).
pub const DATA: &str = "/work/shared/data";

/// A path under the shared data folder.
pub fn data(name: &str) -> PathBuf {
    Path::new(DATA).join(name)
}

/// A temporary folder holding a `patchgate.toml`; its state directory
/// (`.patchgate/`) appears beside it on first use.
pub struct Dir {
    /// Owned when the folder is the test's own: removed when dropped.
    _tmp: Option<tempfile::TempDir>,
    root: PathBuf,
    config: PathBuf,
}

impl Dir {
    /// A folder with an empty `patchgate.toml`: ingest and browse only.
    pub fn new() -> Dir {
        Dir::with_config("")
    }

    /// A folder whose `patchgate.toml` holds `text`.
    pub fn with_config(text: &str) -> Dir {
        let tmp = tempfile::Builder::new()
            .prefix("patchgate-cli-")
            .tempdir()
            .expect("a temporary folder can be made");
        let config = tmp.path().join("patchgate.toml");
        std::fs::write(&config, text).expect("the config file can be written");
        Dir {
            root: tmp.path().to_path_buf(),
            _tmp: Some(tmp),
            config,
        }
    }

    /// An existing configuration file, kept alive by its owner.
    pub fn existing(config: PathBuf) -> Dir {
        let root = config.parent().expect("config has a folder").to_path_buf();
        Dir {
            _tmp: None,
            root,
            config,
        }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The binary as a command with this folder's configuration, for a test
    /// that manages the process itself (signals, kills, environment).
    pub fn cmd(&self) -> Command {
        let mut c = binary(self.path());
        c.arg("--config").arg(&self.config);
        c
    }

    pub fn config(&self) -> &Path {
        &self.config
    }

    /// Write `bytes` to `rel` under the folder, making parent folders.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent folder can be made");
        }
        std::fs::write(&path, bytes).expect("fixture file can be written");
        path
    }

    /// `patchgate --config <this folder's patchgate.toml> ARGS...`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["--config", self.config.to_str().expect("utf-8 temp path")];
        full.extend_from_slice(args);
        patchgate(self.path(), &full, None)
    }

    /// Like [`Dir::run`], with `stdin` piped to the binary.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut full = vec!["--config", self.config.to_str().expect("utf-8 temp path")];
        full.extend_from_slice(args);
        patchgate(self.path(), &full, Some(stdin))
    }

    /// Like [`Dir::run`], killed after `secs` seconds: for input that could
    /// make the binary wait for ever. A kill fails the test, naming the run.
    pub fn run_within(&self, secs: u64, args: &[&str]) -> Output {
        let mut full = vec!["--config", self.config.to_str().expect("utf-8 temp path")];
        full.extend_from_slice(args);
        let mut cmd = binary(self.path());
        cmd.args(&full)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = format!("patchgate {}", full.join(" "));
        let mut child = cmd.spawn().expect("the patchgate binary starts");
        // Read both pipes while waiting, so a long output cannot block it.
        let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
        let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        let status = loop {
            if let Some(status) = child.try_wait().expect("the child can be waited for") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`{shown}` still ran after {secs}s: it hangs");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let stdout = stdout.join().expect("stdout was read");
        let stderr = stderr.join().expect("stderr was read");
        Output {
            command: shown,
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stdout_bytes: stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Run and require exit code 0.
    pub fn ok(&self, args: &[&str]) -> Output {
        self.run(args).code(0)
    }

    /// Run with `--json` appended, require success, parse stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut full = args.to_vec();
        full.push("--json");
        self.ok(&full).json()
    }

    /// `ingest --json SOURCES...`: the summary.
    pub fn ingest(&self, sources: &[&Path]) -> Value {
        let mut args = vec!["ingest"];
        args.extend(sources.iter().map(|p| p.to_str().expect("utf-8 path")));
        self.json(&args)
    }

    /// `series list --json`: the array of series objects.
    pub fn series(&self) -> Vec<Value> {
        match self.json(&["series", "list"]) {
            Value::Array(items) => items,
            other => panic!("series list --json is not an array: {other}"),
        }
    }
}

/// Run the built binary in `cwd` with a clean environment for its own
/// variables, so a developer's PATCHGATE_CONFIG cannot leak in.
pub fn patchgate(cwd: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = binary(cwd);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = format!("patchgate {}", args.join(" "));
    let mut child = cmd.spawn().expect("the patchgate binary starts");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin was piped");
        pipe.write_all(bytes).expect("stdin accepts the message");
    }
    let out = child.wait_with_output().expect("patchgate runs to its end");
    Output {
        command: shown,
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stdout_bytes: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The built binary, to run in `cwd`, with none of a developer's
/// PATCHGATE_CONFIG or PATCHGATE_LOG leaking in.
fn binary(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_patchgate"));
    cmd.current_dir(cwd)
        .env_remove("PATCHGATE_CONFIG")
        .env_remove("PATCHGATE_LOG");
    cmd
}

/// The same folder as the test-stage tests use it: `ok` gives stdout as
/// text, `run` the process's own output, `json` parses what a command
/// given `--json` printed.
pub struct Env(Dir);

impl Env {
    /// A new temporary folder holding `config` as its patchgate.toml.
    pub fn new(config: &str) -> Env {
        Env(Dir::with_config(config))
    }

    /// An existing configuration file (kept alive by its owner).
    pub fn existing(config: PathBuf) -> Env {
        Env(Dir::existing(config))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn cmd(&self) -> Command {
        self.0.cmd()
    }

    /// Run and require success; stdout as text.
    pub fn ok(&self, args: &[&str]) -> String {
        self.0.ok(args).stdout
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.cmd().args(args).output().expect("run patchgate")
    }

    pub fn json(&self, args: &[&str]) -> Value {
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

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct Output {
    pub command: String,
    /// None when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stdout_bytes: Vec<u8>,
    pub stderr: String,
}

impl Output {
    /// Require exit code `want`, showing everything the run printed if not.
    pub fn code(self, want: i32) -> Output {
        assert_eq!(
            self.code,
            Some(want),
            "`{}` exited {:?}, expected {want}\n--- stdout\n{}\n--- stderr\n{}",
            self.command,
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` printed no JSON ({e}):\n{}\n--- stderr\n{}",
                self.command, self.stdout, self.stderr
            )
        })
    }
}

/// A number field of a JSON object, with the object shown when it is not one.
pub fn num(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("`{key}` is not an integer in {v:#}"))
}

/// A string field of a JSON object.
pub fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v:#}"))
}

/// Run `git ARGS` in `dir` with no user or system configuration, fixed
/// identities and dates; panic with its stderr unless it succeeds.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_with_stdin(dir, args, None)
}

/// [`git`] with `stdin` piped to it.
pub fn git_with_stdin(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> String {
    let out = git_output(dir, args, stdin);
    assert!(
        out.status.success(),
        "git {} failed in {}:\n{}{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("git prints UTF-8 here")
}

/// Run git and return its output whatever its exit status.
pub fn git_output(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Patchgate Test")
        .env("GIT_AUTHOR_EMAIL", "test@patchgate.invalid")
        .env("GIT_COMMITTER_NAME", "Patchgate Test")
        .env("GIT_COMMITTER_EMAIL", "test@patchgate.invalid")
        .env("GIT_AUTHOR_DATE", "1660000000 +0000")
        .env("GIT_COMMITTER_DATE", "1660000000 +0000")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("git is installed");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin was piped");
        // A git that stops reading early reports it through its status.
        let _ = pipe.write_all(bytes);
    }
    child.wait_with_output().expect("git runs to its end")
}

/// The messages of an mbox, split independently of the code under test: a
/// message starts at a `From ` line at the start of the file or after a
/// blank line; the blank separator line is dropped. Escapes are kept.
pub fn split_mbox(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut prev_blank = true;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if prev_blank && line.starts_with(b"From ") {
            if let Some(last) = out.last_mut() {
                // The blank line before an envelope belongs to the mbox.
                if last.ends_with(b"\n\n") {
                    last.pop();
                }
            }
            out.push(Vec::new());
        }
        prev_blank = line == b"\n" || line == b"\r\n";
        if let Some(last) = out.last_mut() {
            last.extend_from_slice(line);
        }
    }
    out
}

/// The Message-ID (without angle brackets) of a raw mail, read from its
/// header independently of the code under test.
pub fn message_id(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let header = text.split("\n\n").next().unwrap_or("");
    let mut lines = header.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("message-id") {
            let mut value = value.trim().to_string();
            // A folded header continues on indented lines.
            while let Some(next) = lines.peek().filter(|l| l.starts_with([' ', '\t'])) {
                value.push_str(next.trim());
                lines.next();
            }
            return Some(value.trim_matches(['<', '>']).to_string());
        }
    }
    None
}

/// The raw mails of `mbox` whose Message-IDs are `ids`, in the order of `ids`.
pub fn mails_by_id(mbox: &Path, ids: &[&str]) -> Vec<Vec<u8>> {
    let data = std::fs::read(mbox).expect("the mbox is readable");
    let mails = split_mbox(&data);
    ids.iter()
        .map(|id| {
            mails
                .iter()
                .find(|m| message_id(m).as_deref() == Some(*id))
                .unwrap_or_else(|| panic!("{} holds no mail <{id}>", mbox.display()))
                .clone()
        })
        .collect()
}

/// Concatenate raw mails into an mboxrd file's bytes, envelope lines added.
pub fn mbox_of(mails: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in mails {
        if !m.starts_with(b"From ") {
            out.extend_from_slice(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n");
        }
        out.extend_from_slice(m);
        if !m.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}
