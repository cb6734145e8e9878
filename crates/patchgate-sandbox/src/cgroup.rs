//! Per-run cgroups (v1 `pids` and `memory` controllers): finding where we may
//! create them, creating one per run with its limits, killing everything in
//! it, reading what the kernel counted, and removing it again. Also the
//! clean-up of cgroups left behind by a patchgate process that died.
//!
//! Root is not bound by RLIMIT_NPROC, and bwrap's namespaces limit nothing,
//! so cgroups are the only thing that holds process and memory limits here.
//! Run cgroups are made under this process's own cgroup in each controller
//! (the memory controller's is usually not the root one), named
//! `patchgate-<owner pid>-<owner start time>-<run>` so that a later process
//! can tell whether their owner is still alive.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::{sys, Error};

const PREFIX: &str = "patchgate-";

/// Where run cgroups can be created, as found by [`discover`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Controllers {
    pub pids: Option<PathBuf>,
    pub memory: Option<PathBuf>,
    /// memory.memsw.* exists: swap is accounted, so a memory limit cannot be
    /// sidestepped by swapping.
    pub memsw: bool,
}

/// Finds this process's cgroup in the v1 `pids` and `memory` hierarchies
/// under `root` and checks, by making and removing a probe cgroup, that
/// children can be created there. Returns what works and why the rest does
/// not.
pub(crate) fn discover(root: &Path) -> (Controllers, Vec<String>) {
    let mut problems = Vec::new();
    let own = match fs::read_to_string("/proc/self/cgroup") {
        Ok(text) => text,
        Err(e) => {
            problems.push(format!("cannot read /proc/self/cgroup: {e}"));
            return (Controllers::default(), problems);
        }
    };
    let mut found = Controllers::default();
    for (controller, limit_file) in [("pids", "pids.max"), ("memory", "memory.limit_in_bytes")] {
        let Some(rel) = own_path(&own, controller) else {
            problems.push(format!(
                "no cgroup v1 '{controller}' controller for this process (cgroup v2-only hosts are not supported yet)"
            ));
            continue;
        };
        let base = root.join(controller).join(rel.trim_start_matches('/'));
        match probe(&base, limit_file) {
            Ok(memsw) => {
                if controller == "pids" {
                    found.pids = Some(base);
                } else {
                    found.memsw = memsw;
                    found.memory = Some(base);
                }
            }
            Err(e) => problems.push(format!(
                "cannot create cgroups under {}: {e}",
                base.display()
            )),
        }
    }
    (found, problems)
}

/// The path of this process's cgroup in the v1 hierarchy of `controller`,
/// from the text of /proc/self/cgroup ("id:controller,list:/path").
fn own_path<'a>(proc_self_cgroup: &'a str, controller: &str) -> Option<&'a str> {
    proc_self_cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let _id = parts.next()?;
        let controllers = parts.next()?;
        let path = parts.next()?;
        controllers
            .split(',')
            .any(|c| c == controller)
            .then_some(path)
    })
}

/// Makes and removes a child cgroup under `base`; returns whether the memory
/// controller accounts swap.
fn probe(base: &Path, limit_file: &str) -> io::Result<bool> {
    // A name of its own per probe: sandboxes made at once in one process
    // (parallel tests) must not remove each other's probe.
    let seq = RUN_SEQ.fetch_add(1, Ordering::Relaxed);
    let dir = base.join(format!("{}probe{seq}", owner_tag()));
    fs::create_dir(&dir)?;
    let ok = dir.join(limit_file).exists();
    let memsw = dir.join("memory.memsw.limit_in_bytes").exists();
    fs::remove_dir(&dir)?;
    if ok {
        Ok(memsw)
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{limit_file} missing"),
        ))
    }
}

/// `patchgate-<pid>-<start time>-`: the part of a run cgroup's name that
/// identifies the process that owns it.
fn owner_tag() -> String {
    let pid = std::process::id();
    let start = start_time(pid).unwrap_or(0);
    format!("{PREFIX}{pid}-{start}-")
}

/// A process's start time in clock ticks since boot (field 22 of
/// /proc/PID/stat), which tells a live owner from a recycled pid.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; the fields
    // after its closing parenthesis are plain numbers, field 3 first.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Removes run cgroups under `base` whose owner process is gone, killing any
/// process still in them first. Returns one note per cgroup it could not
/// remove.
pub(crate) fn clean_stale(base: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let Ok(entries) = fs::read_dir(base) else {
        return notes;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let mut parts = rest.split('-');
        let (Some(pid), Some(start)) = (
            parts.next().and_then(|p| p.parse::<u32>().ok()),
            parts.next().and_then(|s| s.parse::<u64>().ok()),
        ) else {
            continue;
        };
        if start_time(pid) == Some(start) {
            continue; // its owner is alive and may be using it
        }
        let dir = entry.path();
        if !kill_all(&dir) || !remove(&dir) {
            notes.push(format!(
                "stale cgroup {} could not be removed",
                dir.display()
            ));
        }
    }
    notes
}

/// One run's cgroups, one per available controller.
#[derive(Debug)]
pub(crate) struct RunCgroup {
    pids: Option<PathBuf>,
    memory: Option<PathBuf>,
    removed: bool,
}

/// What the kernel counted for a run.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Stats {
    pub oom_kills: u64,
    pub fork_refusals: u64,
    pub peak_memory: Option<u64>,
    pub peak_processes: Option<u64>,
}

static RUN_SEQ: AtomicU64 = AtomicU64::new(0);

impl RunCgroup {
    /// Creates the run's cgroups and sets their limits. Returns the cgroup
    /// and notes about limits that could only be set in part.
    pub(crate) fn create(
        ctl: &Controllers,
        max_processes: u64,
        memory_bytes: u64,
    ) -> Result<(RunCgroup, Vec<String>), Error> {
        let name = format!("{}{}", owner_tag(), RUN_SEQ.fetch_add(1, Ordering::Relaxed));
        let mut cg = RunCgroup {
            pids: None,
            memory: None,
            removed: false,
        };
        let mut notes = Vec::new();
        if let Some(base) = &ctl.pids {
            let dir = make_dir(&base.join(&name))?;
            cg.pids = Some(dir.clone());
            write(&dir.join("pids.max"), max_processes, "setting pids.max")?;
        }
        if let Some(base) = &ctl.memory {
            let dir = make_dir(&base.join(&name))?;
            cg.memory = Some(dir.clone());
            write(
                &dir.join("memory.limit_in_bytes"),
                memory_bytes,
                "setting memory.limit_in_bytes",
            )?;
            // memsw must be set after the plain limit (it may never be below
            // it); without it the suite could grow past the limit in swap.
            let memsw = dir.join("memory.memsw.limit_in_bytes");
            if ctl.memsw {
                if let Err(e) = write(&memsw, memory_bytes, "setting memory.memsw.limit_in_bytes") {
                    notes.push(format!("swap is not limited: {e}"));
                }
            } else {
                notes.push(
                    "swap is not accounted (no memory.memsw), memory may grow into swap".into(),
                );
            }
        }
        Ok((cg, notes))
    }

    /// The `cgroup.procs` files, opened for writing, that a child writes to
    /// between fork and exec to join the run.
    pub(crate) fn procs_files(&self) -> Result<Vec<fs::File>, Error> {
        self.dirs()
            .map(|dir| {
                let path = dir.join("cgroup.procs");
                fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|source| Error::Cgroup {
                        path,
                        action: "opening cgroup.procs",
                        source,
                    })
            })
            .collect()
    }

    /// Kills every process in the run, however deep in the tree or however
    /// detached; true once none is left.
    pub(crate) fn kill_all(&self) -> bool {
        self.dirs().all(kill_all)
    }

    /// Whether a fork has been refused at the process limit so far: read
    /// while the run goes on, so a fork bomb is stopped when it hits the
    /// limit instead of spinning until the wall time.
    pub(crate) fn fork_refused(&self) -> bool {
        self.pids
            .as_ref()
            .and_then(|dir| keyed(&dir.join("pids.events"), "max"))
            .is_some_and(|n| n > 0)
    }

    pub(crate) fn stats(&self) -> Stats {
        let mut s = Stats::default();
        if let Some(dir) = &self.pids {
            s.fork_refusals = keyed(&dir.join("pids.events"), "max").unwrap_or(0);
            s.peak_processes = number(&dir.join("pids.peak"));
        }
        if let Some(dir) = &self.memory {
            s.oom_kills = keyed(&dir.join("memory.oom_control"), "oom_kill").unwrap_or(0);
            s.peak_memory = number(&dir.join("memory.max_usage_in_bytes"));
        }
        s
    }

    /// Kills what is left and removes the cgroups; true when all are gone.
    pub(crate) fn remove(mut self) -> bool {
        self.removed = true;
        let killed = self.kill_all();
        killed && self.dirs().all(remove)
    }

    fn dirs(&self) -> impl Iterator<Item = &Path> {
        self.pids
            .iter()
            .chain(self.memory.iter())
            .map(PathBuf::as_path)
    }
}

impl Drop for RunCgroup {
    /// A run that ends by an early return or a panic still leaves nothing
    /// running and nothing behind.
    fn drop(&mut self) {
        if !self.removed {
            self.kill_all();
            self.dirs().for_each(|d| {
                remove(d);
            });
        }
    }
}

fn make_dir(dir: &Path) -> Result<PathBuf, Error> {
    fs::create_dir(dir).map_err(|source| Error::Cgroup {
        path: dir.to_path_buf(),
        action: "creating the run cgroup",
        source,
    })?;
    Ok(dir.to_path_buf())
}

fn write(path: &Path, value: u64, action: &'static str) -> Result<(), Error> {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut f| f.write_all(value.to_string().as_bytes()))
        .map_err(|source| Error::Cgroup {
            path: path.to_path_buf(),
            action,
            source,
        })
}

/// SIGKILLs every process listed in `dir`'s cgroup.procs until the list is
/// empty. A fork bomb may add processes while we kill; the pids limit bounds
/// how many, so a few rounds suffice.
fn kill_all(dir: &Path) -> bool {
    let own = std::process::id();
    for round in 0..400u64 {
        let Ok(text) = fs::read_to_string(dir.join("cgroup.procs")) else {
            // The cgroup is gone (or unreadable): nothing of ours to kill.
            return !dir.exists();
        };
        let pids: Vec<i32> = text
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .filter(|&p: &i32| p > 1 && p as u32 != own)
            .collect();
        if pids.is_empty() {
            return true;
        }
        for pid in pids {
            // An error here means the process is not ours to signal, which
            // cannot be fixed by retrying; the loop's bound ends it.
            let _ = sys::kill(pid);
        }
        // Killed processes leave the list within microseconds to a few
        // milliseconds; back off from 0.1 ms to about 13 ms.
        std::thread::sleep(Duration::from_micros(100 << round.min(7)));
    }
    false
}

/// Removes a cgroup directory, retrying while the last processes finish
/// exiting (rmdir fails with EBUSY until they have).
fn remove(dir: &Path) -> bool {
    for _ in 0..200 {
        match fs::remove_dir(dir) {
            Ok(()) => return true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return true,
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    false
}

/// The number after `key` in a "key value" per line file (pids.events,
/// memory.oom_control).
fn keyed(path: &Path, key: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

fn number(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_path_finds_controller_in_a_comma_list() {
        let text = "9:name=systemd:/\n8:pids:/\n4:memory:/a/b\n1:cpu,cpuacct:/c\n0::/\n";
        assert_eq!(own_path(text, "pids"), Some("/"));
        assert_eq!(own_path(text, "memory"), Some("/a/b"));
        assert_eq!(own_path(text, "cpuacct"), Some("/c"));
        assert_eq!(own_path(text, "freezer"), None);
    }

    #[test]
    fn start_time_of_this_process_is_known() {
        assert!(start_time(std::process::id()).is_some());
    }
}
