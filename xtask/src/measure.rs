//! Run a command and measure its wall time, CPU time and peak memory.
//!
//! Peak memory comes from the kernel's own accounting of the child (`wait4`'s
//! `ru_maxrss`), so it is exact and needs no external `time` program.

#![allow(unsafe_code)]

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What one run cost.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub wall: Duration,
    pub cpu: Duration,
    /// Peak resident set, bytes.
    pub peak_rss: u64,
}

/// Run `cmd` to completion; fail when it exits non-zero.
pub fn run(cmd: &mut Command) -> anyhow::Result<Cost> {
    let started = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped (std's Child is dropped
    // without waiting), and both out-pointers are valid for the call.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    drop(child);
    if r != pid {
        bail!(
            "wait4 on {cmd:?} failed: {}",
            std::io::Error::last_os_error()
        );
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!("{cmd:?} failed with wait status {status}");
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Cost {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        peak_rss: usage.ru_maxrss as u64 * 1024,
    })
}

/// `program` pinned to the first core, so figures of different tools
/// measured in one run compare like with like.
pub fn pinned(program: &Path) -> Command {
    pinned_to(program, "0")
}

/// `program` on the cores of `cores` (a `taskset -c` list such as `0,1`).
pub fn pinned_to(program: &Path, cores: &str) -> Command {
    let mut c = Command::new("taskset");
    c.arg("-c").arg(cores).arg(program);
    c
}

/// The workspace's root folder.
pub fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask sits inside the workspace")
}

/// Build the release binary of patchgate and return its path.
pub fn release_patchgate(root: &Path) -> anyhow::Result<PathBuf> {
    let status = Command::new("cargo")
        .args(["build", "--release", "--quiet", "-p", "patchgate"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("cargo build --release -p patchgate failed");
    }
    Ok(root.join("target/release/patchgate"))
}
