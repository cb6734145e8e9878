//! Run one suite command confined, and report what happened.
//!
//! A tree's test suites are untrusted code: a posted patch can change them.
//! [`Sandbox::run`] runs one [`Spec`] (a shell command in a git worktree)
//! under bubblewrap with no network, a read-only view of the system, a
//! private /tmp and only the worktree writable, inside per-run cgroups that
//! hold its memory and process count, and kills the whole process tree at
//! the wall-time or output limit. The [`Outcome`] says how it ended, which
//! limit stopped it, and which limits were in force.
//!
//! The probe in [`Sandbox::new`] decides once what this host can enforce
//! ([`Sandbox::capabilities`]). Without a working bwrap the sandbox refuses
//! to run unless [`Config::allow_unconfined`] says otherwise, and every
//! outcome lists what was not enforced: a suite is never run less confined
//! than its caller believes.
//!
//! How each protection holds:
//!
//! | protection | mechanism | without it |
//! | --- | --- | --- |
//! | isolation | bwrap: own user/pid/net/ipc/uts/cgroup namespaces, no capabilities, no nested user namespaces; /usr, /etc and the library dirs read-only, /proc/sys read-only, host secrets masked, private /tmp, /var/tmp, /dev/shm; the worktree the only writable host path; descriptors above stderr closed | refused, unless `allow_unconfined` |
//! | processes | a per-run v1 `pids` cgroup joined before exec (root ignores RLIMIT_NPROC); reported from `pids.events` | noted in every outcome |
//! | memory | a per-run v1 `memory` cgroup with `memsw` (swap) when accounted; reported from the OOM kill count | noted in every outcome |
//! | disk | the worktree's growth measured whenever its filesystem grew by a quarter of the limit, and at the end; one file capped by `RLIMIT_FSIZE`; the private /tmp a tmpfs of fixed size | always held |
//! | wall time, output | this crate kills the outer bwrap (the pid namespace dies with it) and every pid in the run's cgroups | always held |
//!
//! This crate is one of two that start processes (the other is
//! patchgate-git); it knows nothing of series, stores or verdicts. What a
//! suite leaves in the worktree (symlinks to host files included) is
//! untrusted: whoever reads it afterwards must not follow links out of it.

#![allow(clippy::disallowed_methods)] // starts bubblewrap and the suites by design

mod bwrap;
mod capabilities;
mod cgroup;
mod disk;
mod error;
pub mod inside;
mod run;
mod sys;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use capabilities::Capabilities;
pub use error::Error;

/// How the sandbox is set up; the defaults suit a Debian host with
/// bubblewrap installed and cgroup v1 mounted at /sys/fs/cgroup.
#[derive(Debug, Clone)]
pub struct Config {
    /// The bwrap binary; `None` looks for `bwrap` on PATH.
    pub bwrap: Option<PathBuf>,
    /// Where the cgroup v1 hierarchies are mounted (`<root>/pids`,
    /// `<root>/memory`).
    pub cgroup_root: PathBuf,
    /// Host paths the suite may read besides the system (/usr, /etc, the
    /// library dirs), e.g. a toolchain under /opt. Missing ones are skipped.
    pub read_only_paths: Vec<PathBuf>,
    /// Run suites without bwrap when it is missing or broken. Off by
    /// default: unconfined, a suite sees the host's files and network. Each
    /// outcome of such a run says so in its notes.
    pub allow_unconfined: bool,
    /// Set (by a signal handler, say) to stop every run: each kills its
    /// tree within a tenth of a second and returns [`Error::Cancelled`].
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bwrap: None,
            cgroup_root: PathBuf::from("/sys/fs/cgroup"),
            read_only_paths: Vec::new(),
            allow_unconfined: false,
            cancel: None,
        }
    }
}

/// One command to run: `sh -c command` in `workdir`, within limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// A shell command line, run by `/bin/sh -c`.
    pub command: String,
    /// The git worktree: the only host directory the suite may write,
    /// bound whole.
    pub workdir: PathBuf,
    /// Where in the worktree the command starts, relative to it. The tree
    /// is untrusted: a symlink on the way that leads out of the worktree
    /// makes the run fail with [`Error::Path`], never binds what it names.
    pub subdir: PathBuf,
    /// Variables added to the minimal environment (PATH, HOME=/tmp,
    /// TMPDIR=/tmp, LANG=C.UTF-8); a name given here replaces the default.
    pub env: Vec<(String, String)>,
    /// After this long the whole tree is killed ([`Limit::WallTime`]).
    pub wall_time: Duration,
    /// Memory of the whole tree, page cache and private /tmp included
    /// ([`Limit::Memory`]).
    pub memory_bytes: u64,
    /// Processes (and threads) alive at once in the suite's tree, the shell
    /// included ([`Limit::Processes`]).
    pub max_processes: u64,
    /// Combined stdout and stderr kept; one byte more and the tree is killed
    /// ([`Limit::Output`]).
    pub max_output_bytes: usize,
    /// Bytes the run may add to the worktree on the host's disk (files
    /// created or changed during the run); one file may never be larger.
    /// Past it the tree is killed ([`Limit::Disk`]).
    pub max_disk_bytes: u64,
    /// Size of each private in-memory folder (/tmp, /var/tmp, /dev/shm): a
    /// write past it fails with "no space left on device". What is stored
    /// there counts against `memory_bytes` as well.
    pub max_tmp_bytes: u64,
}

impl Spec {
    /// A spec with generous defaults: 10 minutes, 4 GiB, 1024 processes,
    /// 16 MiB of output, 20 GiB of disk, 1 GiB of /tmp.
    pub fn new(command: impl Into<String>, workdir: impl Into<PathBuf>) -> Spec {
        Spec {
            command: command.into(),
            workdir: workdir.into(),
            subdir: PathBuf::from("."),
            env: Vec::new(),
            wall_time: Duration::from_secs(600),
            memory_bytes: 4 << 30,
            max_processes: 1024,
            max_output_bytes: 16 << 20,
            max_disk_bytes: 20 << 30,
            max_tmp_bytes: 1 << 30,
        }
    }
}

/// A limit that stopped (or cut short part of) a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Limit {
    /// The wall-time limit passed; the tree was killed.
    WallTime,
    /// The memory cgroup's OOM killer killed a process of the run.
    Memory,
    /// A fork or clone was refused at the process limit; the tree was
    /// killed.
    Processes,
    /// The output limit was exceeded; the tree was killed.
    Output,
    /// The run wrote more than its disk limit into the worktree; the tree
    /// was killed.
    Disk,
}

/// How the sandboxed command ended.
///
/// Under bwrap, a command killed by signal N shows as `Exited(128 + N)`
/// (bwrap reports its child's death that way); `Signaled` means the sandbox
/// itself was killed, which happens when a limit is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Exited(i32),
    Signaled(i32),
}

impl Status {
    pub fn success(self) -> bool {
        self == Status::Exited(0)
    }
}

/// Which protections held for a run (or will, for [`Capabilities`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enforced {
    /// Namespaces and mounts: no network, read-only system, writable
    /// worktree and private /tmp only.
    pub isolation: bool,
    pub wall_time: bool,
    pub output: bool,
    pub memory: bool,
    pub processes: bool,
}

impl Enforced {
    /// True when every limit and the isolation held.
    pub fn all(self) -> bool {
        self.isolation && self.wall_time && self.output && self.memory && self.processes
    }
}

/// What happened in one run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    /// stdout and stderr interleaved as written, at most
    /// `max_output_bytes`.
    pub output: Vec<u8>,
    /// Output was cut at the limit.
    pub truncated: bool,
    /// From start until the command ended (or was killed).
    pub duration: Duration,
    /// The limit that stopped the run; a memory or process limit counts even
    /// when the suite went on after it. When several were hit, the kernel's
    /// (memory, then processes) come first: the wall time or output limit
    /// is then usually their consequence. The others are in `notes`.
    pub limit_hit: Option<Limit>,
    /// Which limits were in force for this run.
    pub enforced: Enforced,
    /// Highest memory use of the tree, when the memory cgroup was used.
    pub peak_memory_bytes: Option<u64>,
    /// Most processes alive at once (bwrap's two included), when known.
    pub peak_processes: Option<u64>,
    /// Every process of the run is known to be dead and its cgroups removed.
    pub tree_reaped: bool,
    /// Plain sentences about anything a reader of the result should know:
    /// limits not enforced, other limits hit, clean-up problems.
    pub notes: Vec<String>,
}

/// The confined runner. Probe once, run many times, from any thread.
#[derive(Debug)]
pub struct Sandbox {
    config: Config,
    capabilities: Capabilities,
}

impl Sandbox {
    /// Probes what this host can enforce and removes cgroups left by an
    /// earlier patchgate process that died.
    ///
    /// Fails only when bwrap is unusable and `allow_unconfined` is off.
    pub fn new(config: Config) -> Result<Sandbox, Error> {
        let capabilities = Capabilities::probe(&config);
        if capabilities.bwrap.is_none() && !config.allow_unconfined {
            return Err(Error::Unconfined {
                reason: capabilities
                    .bwrap_problem
                    .clone()
                    .unwrap_or_else(|| "bwrap is unusable".to_string()),
            });
        }
        let mut capabilities = capabilities;
        let ctl = &capabilities.controllers;
        let stale: Vec<String> = ctl
            .pids
            .iter()
            .chain(ctl.memory.iter())
            .flat_map(|base| cgroup::clean_stale(base))
            .collect();
        capabilities.cgroup_problems.extend(stale);
        Ok(Sandbox {
            config,
            capabilities,
        })
    }

    /// What this host lets the sandbox enforce; `summary()` for people.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Runs `spec` to its end or to a limit. A suite's failure, crash or
    /// limit is an [`Outcome`]; an `Err` means it could not be run as asked.
    pub fn run(&self, spec: &Spec) -> Result<Outcome, Error> {
        run::run(&self.config, &self.capabilities, spec)
    }
}
