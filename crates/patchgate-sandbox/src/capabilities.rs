//! The probe made once at [`Sandbox::new`](crate::Sandbox::new): is bwrap
//! there and does it work, which cgroup controllers can we use, may
//! unprivileged users make user namespaces. Its result says, for each limit,
//! whether it will hold, so that no caller runs a suite less confined than it
//! believes.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cgroup::{self, Controllers};
use crate::{bwrap, Config, Enforced};

/// What this host lets the sandbox do, as probed at start-up.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// The bwrap binary, when it was found and a trial sandbox ran.
    pub bwrap: Option<PathBuf>,
    /// Why bwrap is not used, when it is not.
    pub bwrap_problem: Option<String>,
    /// Whether this process runs as root. Root needs no unprivileged user
    /// namespaces for bwrap, and is not bound by RLIMIT_NPROC, which is why
    /// the process limit is a cgroup's.
    pub root: bool,
    /// Whether unprivileged users may create user namespaces (what bwrap
    /// needs when not run as root).
    pub user_namespaces: bool,
    /// Why a cgroup controller cannot be used, one line each.
    pub cgroup_problems: Vec<String>,
    pub(crate) controllers: Controllers,
}

impl Capabilities {
    pub(crate) fn probe(config: &Config) -> Capabilities {
        let (controllers, cgroup_problems) = cgroup::discover(&config.cgroup_root);
        let (bwrap, bwrap_problem) = match find_bwrap(config.bwrap.as_deref()) {
            Some(path) => match trial(&path) {
                Ok(()) => (Some(path), None),
                Err(why) => (None, Some(why)),
            },
            None => (None, Some("bwrap not found on PATH".to_string())),
        };
        Capabilities {
            bwrap,
            bwrap_problem,
            root: is_root(),
            user_namespaces: user_namespaces_allowed(),
            cgroup_problems,
            controllers,
        }
    }

    /// Which limits a run will enforce on this host.
    pub fn enforced(&self) -> Enforced {
        Enforced {
            isolation: self.bwrap.is_some(),
            wall_time: true,
            output: true,
            memory: self.controllers.memory.is_some(),
            processes: self.controllers.pids.is_some(),
        }
    }

    /// A few lines for an operator: what holds, what does not, and why.
    pub fn summary(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes = |b: bool| if b { "enforced" } else { "NOT enforced" };
        match (&self.bwrap, &self.bwrap_problem) {
            (Some(path), _) => writeln!(
                f,
                "isolation: enforced by {} (no network, read-only system, private /tmp, writable worktree only)",
                path.display()
            )?,
            (None, why) => writeln!(
                f,
                "isolation: NOT enforced ({}); suites would see the host's files and network",
                why.as_deref().unwrap_or("bwrap unusable")
            )?,
        }
        let e = self.enforced();
        match &self.controllers.memory {
            Some(dir) => writeln!(
                f,
                "memory limit: enforced (cgroup v1 under {}{})",
                dir.display(),
                if self.controllers.memsw {
                    ", swap included"
                } else {
                    ", swap NOT included"
                }
            )?,
            None => writeln!(f, "memory limit: {}", yes(e.memory))?,
        }
        match &self.controllers.pids {
            Some(dir) => writeln!(
                f,
                "process limit: enforced (cgroup v1 under {})",
                dir.display()
            )?,
            None => writeln!(f, "process limit: {}", yes(e.processes))?,
        }
        writeln!(
            f,
            "wall time and output limits: enforced (killing the whole tree)"
        )?;
        for problem in &self.cgroup_problems {
            writeln!(f, "  cgroups: {problem}")?;
        }
        write!(
            f,
            "running as {}; unprivileged user namespaces {}",
            if self.root { "root" } else { "non-root" },
            if self.user_namespaces {
                "allowed"
            } else {
                "not allowed"
            }
        )
    }
}

/// The configured bwrap, or the first `bwrap` on PATH.
fn find_bwrap(configured: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = configured {
        return Some(path.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join("bwrap"))
        .find(|candidate| candidate.is_file())
}

/// Runs `true` in a sandbox built exactly as a run's would be, so a bwrap
/// that exists but cannot make namespaces here is found now, not at the
/// first suite.
fn trial(bwrap: &Path) -> Result<(), String> {
    let args = bwrap::args(None, &[], 1 << 20, "true");
    let out = Command::new(bwrap)
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{} cannot be started: {e}", bwrap.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed a trial run ({}): {}",
            bwrap.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn is_root() -> bool {
    // /proc/self/status' Uid line: real, effective, saved, filesystem.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn user_namespaces_allowed() -> bool {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    // Debian's switch; absent on kernels without the patch.
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return false;
    }
    read("/proc/sys/user/max_user_namespaces")
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| n > 0)
}
