//! Running the `git` program: the environment it sees and how its output is
//! collected.
//!
//! This is the only file of the crate that spawns processes. git runs with a
//! cleared environment so that neither the operator's `~/.gitconfig` nor a
//! stray `GIT_DIR` changes what patchgate does, with messages in the C locale
//! (some of them are parsed), and never with a prompt: a credential question
//! on a server would hang a worker forever.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use crate::error::{GitError, Result};

/// Variables passed through from patchgate's own environment: what git needs
/// to find its helpers, a temporary directory, and network access that the
/// operator configured (proxies, an ssh agent).
const PASSED_THROUGH: &[&str] = &[
    "PATH",
    "TMPDIR",
    "SSH_AUTH_SOCK",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
];

/// The environment git runs in.
///
/// [`GitEnv::isolated`] (the default) reads no configuration file at all.
/// [`GitEnv::with_home`] points `HOME` at a directory of patchgate's own, so an
/// operator can keep, say, credentials or `url.*.insteadOf` for patchgate in
/// `DIR/.gitconfig` without touching their personal configuration.
#[derive(Debug, Clone, Default)]
pub struct GitEnv {
    home: Option<PathBuf>,
}

impl GitEnv {
    /// No system, global or user configuration.
    pub fn isolated() -> Self {
        GitEnv { home: None }
    }

    /// `HOME` (and so `~/.gitconfig`) is `dir`; system configuration is still
    /// ignored.
    pub fn with_home(dir: impl Into<PathBuf>) -> Self {
        GitEnv {
            home: Some(dir.into()),
        }
    }

    /// A `git` command in `cwd` with this environment and the fixed options
    /// every invocation gets.
    pub(crate) fn command(&self, cwd: &Path) -> Cmd {
        let mut command = Command::new("git");
        command.current_dir(cwd).env_clear();
        for name in PASSED_THROUGH {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
            .env("LC_ALL", "C")
            .env("LANG", "C");
        match &self.home {
            Some(home) => {
                command.env("HOME", home);
                command.env("XDG_CONFIG_HOME", home.join(".config"));
            }
            None => {
                // Without a home of its own, git must not fall back to
                // reading a shared directory's `.gitconfig`.
                command.env("HOME", std::env::temp_dir());
                command.env("GIT_CONFIG_GLOBAL", "/dev/null");
            }
        }
        // A default identity, so that commands which record one never fail
        // for want of it; `am` overrides the committer with the caller's.
        command.args([
            "-c",
            "user.name=patchgate",
            "-c",
            "user.email=patchgate@localhost",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "advice.detachedHead=false",
            // No maintenance started behind our back after `am` or `fetch`:
            // it costs a process per job and a detached gc would race the
            // worktrees other jobs add and remove. Mirror::maintain runs it
            // under the mirror's lock instead.
            "-c",
            "maintenance.auto=false",
            "-c",
            "gc.auto=0",
        ]);
        Cmd {
            command,
            cwd: cwd.to_path_buf(),
            args: Vec::new(),
        }
    }
}

/// One git invocation being built; remembers its arguments for error messages.
pub(crate) struct Cmd {
    command: Command,
    cwd: PathBuf,
    args: Vec<OsString>,
}

/// What a finished git printed.
pub(crate) struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stdout and stderr together, trimmed: what a person would have seen.
    pub fn combined_text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.stdout).trim_end().to_owned();
        let stderr = String::from_utf8_lossy(&self.stderr);
        if !stderr.trim().is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(stderr.trim_end());
        }
        text
    }
}

impl Cmd {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_os_string());
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    pub fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    pub fn args_text(&self) -> String {
        self.args
            .iter()
            .map(|arg| arg.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs to completion with `input` on stdin; any exit status is returned.
    pub fn output_with_input(self, input: &[u8]) -> Result<Output> {
        self.collect(Some(input))
    }

    /// Runs to completion with empty stdin; any exit status is returned.
    pub fn output(self) -> Result<Output> {
        self.collect(None)
    }

    /// The one way git is run and its output collected: stdin is `input`
    /// (or empty), stdout and stderr are read to their end.
    fn collect(mut self, input: Option<&[u8]>) -> Result<Output> {
        let args = self.args_text();
        let spawn_error = |source| GitError::Spawn {
            repo: self.cwd.clone(),
            args: args.clone(),
            source,
        };
        let mut child = self
            .command
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        // Written from a thread: git may fill its stdout pipe before reading
        // all of its input, and then neither side would move.
        let writer = match (child.stdin.take(), input) {
            (Some(mut stdin), Some(input)) => {
                let input = input.to_vec();
                Some(std::thread::spawn(move || {
                    // A broken pipe means git stopped reading; its exit
                    // status and stderr say why, so the write error itself
                    // adds nothing.
                    let _ = stdin.write_all(&input);
                }))
            }
            _ => None,
        };
        let output = child.wait_with_output().map_err(spawn_error)?;
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        Ok(Output {
            status: output.status,
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }

    /// Runs to completion and fails unless git exits 0.
    pub fn run(self) -> Result<Output> {
        let repo = self.cwd.clone();
        let args = self.args_text();
        let output = self.output()?;
        check(&repo, &args, output)
    }

    /// Like [`Cmd::run`], returning stdout as text.
    pub fn run_text(self) -> Result<String> {
        Ok(self.run()?.stdout_text())
    }

    /// Starts git with piped stdin and stdout for streaming protocols
    /// (`cat-file --batch`); stderr is discarded since the caller reads the
    /// protocol's own error replies.
    pub fn spawn_piped(mut self) -> Result<(Child, String)> {
        let args = self.args_text();
        let child = self
            .command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| GitError::Spawn {
                repo: self.cwd.clone(),
                args: args.clone(),
                source,
            })?;
        Ok((child, args))
    }
}

/// Turns a non-zero exit into [`GitError::Failed`] carrying git's stderr.
pub(crate) fn check(repo: &Path, args: &str, output: Output) -> Result<Output> {
    if output.status.success() {
        Ok(output)
    } else {
        Err(failed(repo, args, &output))
    }
}

pub(crate) fn failed(repo: &Path, args: &str, output: &Output) -> GitError {
    GitError::Failed {
        repo: repo.to_path_buf(),
        args: args.to_owned(),
        status: output.status.to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    }
}
