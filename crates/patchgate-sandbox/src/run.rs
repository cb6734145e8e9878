//! One run: start the command confined, collect its output, enforce the
//! wall-time and output limits, kill the whole tree, and read back what the
//! cgroups counted.
//!
//! Two helper threads do the blocking: one reads the output pipe, one waits
//! for the child. They report to this thread over a channel, so the run's
//! own thread only ever waits with a deadline.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::cgroup::RunCgroup;
use crate::disk::DiskWatch;
use crate::{
    bwrap, inside, sys, Capabilities, Config, Enforced, Error, Limit, Outcome, Spec, Status,
};

/// The processes bwrap itself keeps alive in a run (its outer process and
/// the namespace's init); they count against the pids cgroup, so the limit
/// is raised by this much to give the suite what its spec asks.
const BWRAP_PROCESSES: u64 = 2;

/// How long to wait for the output pipe to close once the command has
/// ended. Under bwrap the pid namespace dies with it, so this is short.
const DRAIN: Duration = Duration::from_secs(2);

/// How often to repeat the kill while a killed run has not yet exited.
const KILL_RETRY: Duration = Duration::from_millis(500);
const KILL_ATTEMPTS: u32 = 20;

/// How often a running suite's process count and disk use are looked at:
/// a fork bomb is stopped this soon after it reaches the process limit.
const WATCH: Duration = Duration::from_millis(100);

/// What the helper threads report.
enum Event {
    Exited(io::Result<ExitStatus>),
    OutputOverflow,
    OutputClosed,
}

/// The output collected so far, shared with the reader thread.
#[derive(Default)]
struct Collected {
    bytes: Vec<u8>,
    truncated: bool,
}

pub(crate) fn run(config: &Config, caps: &Capabilities, spec: &Spec) -> Result<Outcome, Error> {
    validate(spec)?;
    let cancelled = || {
        config
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    };
    if cancelled() {
        return Err(Error::Cancelled);
    }
    let root = workdir(&spec.workdir)?;
    // Where the command starts, found inside the worktree without following
    // a link out of it; bwrap's --chdir then happens inside the sandbox,
    // where the rest of the host is not mounted at all.
    let start_dir = inside::resolve_dir(&root, &spec.subdir)?;
    let mut notes = Vec::new();
    let confined = caps.bwrap.is_some();

    let (mut cmd, overhead) = match &caps.bwrap {
        Some(bwrap) => {
            let mut cmd = Command::new(bwrap);
            cmd.args(bwrap::args(
                Some(bwrap::Tree {
                    root: &root,
                    start: &start_dir,
                }),
                &config.read_only_paths,
                spec.max_tmp_bytes,
                &spec.command,
            ));
            (cmd, BWRAP_PROCESSES)
        }
        None if config.allow_unconfined => {
            notes.push(
                "UNCONFINED: bwrap is unusable, the suite ran with the host's files and network"
                    .to_string(),
            );
            let mut cmd = Command::new("/bin/sh");
            cmd.arg("-c").arg(&spec.command).current_dir(&start_dir);
            // Its own process group, so the tree can be killed as one.
            cmd.process_group(0);
            (cmd, 0)
        }
        None => {
            return Err(Error::Unconfined {
                reason: caps
                    .bwrap_problem
                    .clone()
                    .unwrap_or_else(|| "bwrap is unusable".into()),
            })
        }
    };
    cmd.env_clear()
        .envs(environment(&spec.env))
        .stdin(Stdio::null());

    // One pipe for stdout and stderr keeps their lines in the order written.
    let (reader, writer) =
        io::pipe().map_err(|source| resource("creating the output pipe", source))?;
    let writer2 = writer
        .try_clone()
        .map_err(|source| resource("duplicating the output pipe", source))?;
    cmd.stdout(writer2).stderr(writer);

    let ctl = &caps.controllers;
    let cgroup = if ctl.pids.is_some() || ctl.memory.is_some() {
        let (cg, cg_notes) = RunCgroup::create(
            ctl,
            spec.max_processes.saturating_add(overhead),
            spec.memory_bytes,
        )?;
        notes.extend(cg_notes);
        Some(cg)
    } else {
        None
    };
    let enforced = Enforced {
        isolation: confined,
        wall_time: true,
        output: true,
        memory: ctl.memory.is_some(),
        processes: ctl.pids.is_some(),
    };
    if !enforced.memory {
        notes.push("memory limit NOT enforced: no usable memory cgroup".to_string());
    }
    if !enforced.processes {
        notes.push("process limit NOT enforced: no usable pids cgroup".to_string());
    }
    let procs_files = match &cgroup {
        Some(cg) => cg.procs_files()?,
        None => Vec::new(),
    };
    sys::prepare_child(
        &mut cmd,
        procs_files.iter().map(|f| f.as_raw_fd()).collect(),
        spec.max_disk_bytes,
    );
    let mut disk = DiskWatch::new(&root, spec.max_disk_bytes);

    // Both threads start before the child, so a failure to start one leaves
    // nothing running.
    let (tx, rx) = mpsc::channel();
    let collected = Arc::new(Mutex::new(Collected::default()));
    let reader_thread = {
        let (tx, collected, max) = (tx.clone(), Arc::clone(&collected), spec.max_output_bytes);
        std::thread::Builder::new()
            .name("sandbox-output".into())
            .spawn(move || read_output(reader, max, &collected, &tx))
            .map_err(|source| resource("starting the output reader thread", source))?
    };
    let (child_tx, child_rx) = mpsc::channel::<Child>();
    std::thread::Builder::new()
        .name("sandbox-wait".into())
        .spawn(move || {
            if let Ok(mut child) = child_rx.recv() {
                // The receiver is gone only if the run panicked; nobody to tell.
                let _ = tx.send(Event::Exited(child.wait()));
            }
        })
        .map_err(|source| resource("starting the wait thread", source))?;

    let start = Instant::now();
    let spawned = cmd.spawn();
    // Our copies of the pipe's write end live in `cmd`: drop them, or the
    // reader would never see the end of the output.
    drop(cmd);
    drop(procs_files);
    let child = spawned.map_err(|source| Error::Spawn {
        program: caps
            .bwrap
            .clone()
            .unwrap_or_else(|| PathBuf::from("/bin/sh")),
        source,
    })?;
    let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    // Taken before the wait thread can reap the child, so a kill after the
    // child exited can never reach a process that reused its pid. Kernels
    // before 5.3 have no pidfd; then the pid is signalled, as before.
    let pidfd = sys::pidfd_open(pid).ok();
    // The wait thread is alive (it was just started and blocks on this
    // channel), so the send cannot fail; if it somehow did, the child would
    // still be killed below and reaped when this process exits.
    let _ = child_tx.send(child);

    let kill_tree = |exited: bool| {
        if confined {
            // Killing the outer bwrap takes down the pid namespace: its init
            // dies with it (--die-with-parent) and with that every process.
            if !exited {
                let _ = match &pidfd {
                    Some(fd) => sys::pidfd_kill(fd),
                    None => sys::kill(pid),
                };
            }
        } else {
            let _ = sys::kill(-pid);
        }
        if let Some(cg) = &cgroup {
            cg.kill_all();
        }
    };

    // A limit too large to add to the clock means "no limit" in practice;
    // 136 years stands in for it.
    let deadline = start
        .checked_add(spec.wall_time)
        .unwrap_or_else(|| start + Duration::from_secs(u64::from(u32::MAX)));
    let mut status: Option<io::Result<ExitStatus>> = None;
    let mut duration = None;
    let mut closed = false;
    let mut killed_for: Option<Limit> = None;
    let mut kill_attempts = 0;
    let mut drain_until = None;
    let mut cancel_seen = false;
    while status.is_none() || !closed {
        let now = Instant::now();
        let until = match (&status, killed_for) {
            (Some(_), _) => *drain_until.get_or_insert(now + DRAIN),
            (None, Some(_)) => now + KILL_RETRY,
            (None, None) => deadline.min(now + WATCH),
        };
        match rx.recv_timeout(until.saturating_duration_since(now)) {
            Ok(Event::Exited(s)) => {
                duration = Some(start.elapsed());
                status = Some(s);
                // Whatever still runs (a daemon holding the pipe) goes too.
                kill_tree(true);
            }
            Ok(Event::OutputOverflow) => {
                if status.is_none() && killed_for.is_none() {
                    killed_for = Some(Limit::Output);
                    kill_tree(false);
                }
            }
            Ok(Event::OutputClosed) => closed = true,
            Err(RecvTimeoutError::Timeout) if status.is_some() => {
                notes.push(
                    "a process outside the sandbox's reach kept the output open; output after the command ended is lost"
                        .to_string(),
                );
                break;
            }
            Err(RecvTimeoutError::Timeout) if killed_for.is_none() && Instant::now() < deadline => {
                // A look at the limits the kernel does not enforce by
                // killing: a refused fork leaves the bomb spinning, and the
                // worktree's size is ours to watch.
                if cancelled() {
                    cancel_seen = true;
                    // Counted as a limit so the loop waits for the exit.
                    killed_for = Some(Limit::WallTime);
                    kill_tree(false);
                } else if cgroup.as_ref().is_some_and(RunCgroup::fork_refused) {
                    killed_for = Some(Limit::Processes);
                    kill_tree(false);
                } else if disk.over(false) {
                    killed_for = Some(Limit::Disk);
                    kill_tree(false);
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if killed_for.is_none() {
                    killed_for = Some(Limit::WallTime);
                }
                kill_attempts += 1;
                if kill_attempts > KILL_ATTEMPTS {
                    return Err(resource(
                        "killing the run",
                        io::Error::other(format!("pid {pid} did not exit after repeated SIGKILL")),
                    ));
                }
                kill_tree(false);
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    if cancel_seen {
        // The tree is dead (or being killed); its cgroup goes with the
        // RunCgroup's drop.
        return Err(Error::Cancelled);
    }
    if closed {
        // The thread has sent its last event and is returning; a panic in it
        // would only mean less output, which `collected` still holds.
        let _ = reader_thread.join();
    }

    let status = match status {
        Some(Ok(s)) => match (s.code(), s.signal()) {
            (Some(code), _) => Status::Exited(code),
            (None, Some(sig)) => Status::Signaled(sig),
            (None, None) => Status::Exited(-1),
        },
        Some(Err(source)) => return Err(resource("waiting for the sandboxed command", source)),
        None => {
            return Err(resource(
                "waiting for the sandboxed command",
                io::Error::other("the wait thread ended without a status"),
            ))
        }
    };

    let stats = cgroup.as_ref().map(|cg| cg.stats()).unwrap_or_default();
    let tree_reaped = match cgroup {
        Some(cg) => {
            let removed = cg.remove();
            if !removed {
                notes.push("the run's cgroup could not be emptied and removed".to_string());
            }
            removed
        }
        // Without cgroups, only bwrap's pid namespace vouches for the tree.
        None => confined && closed,
    };

    // A file cut at RLIMIT_FSIZE, or a last burst of writes, is seen here.
    if killed_for.is_none() && disk.over(true) {
        killed_for = Some(Limit::Disk);
    }
    if killed_for == Some(Limit::Disk) {
        notes.push(format!(
            "wrote more than its disk limit of {} into the worktree (counted {})",
            bytes(spec.max_disk_bytes),
            bytes(disk.written)
        ));
    }
    let mut hits = Vec::new();
    if stats.oom_kills > 0 {
        hits.push(Limit::Memory);
        notes.push(format!(
            "the private /tmp, /var/tmp and /dev/shm are in memory (at most {} each) and count against the memory limit of {}",
            bytes(spec.max_tmp_bytes),
            bytes(spec.memory_bytes)
        ));
    }
    if stats.fork_refusals > 0 {
        hits.push(Limit::Processes);
    }
    if let Some(hit) = killed_for.filter(|h| !hits.contains(h)) {
        hits.push(hit);
    }
    for extra in hits.iter().skip(1) {
        notes.push(format!("also hit the {extra:?} limit"));
    }
    let (output, truncated) = {
        let mut c = collected.lock().unwrap_or_else(PoisonError::into_inner);
        (std::mem::take(&mut c.bytes), c.truncated)
    };
    Ok(Outcome {
        status,
        output,
        truncated,
        duration: duration.unwrap_or_else(|| start.elapsed()),
        limit_hit: hits.first().copied(),
        enforced,
        peak_memory_bytes: stats.peak_memory,
        peak_processes: stats.peak_processes,
        tree_reaped,
        notes,
    })
}

/// Reads the pipe to its end, keeping at most `max` bytes; reports once when
/// more arrive, then discards the rest so writers never block.
fn read_output(
    mut reader: io::PipeReader,
    max: usize,
    collected: &Mutex<Collected>,
    tx: &Sender<Event>,
) {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let mut c = collected.lock().unwrap_or_else(PoisonError::into_inner);
        let room = max.saturating_sub(c.bytes.len());
        if n > room {
            c.bytes.extend_from_slice(&chunk[..room]);
            if !c.truncated {
                c.truncated = true;
                let _ = tx.send(Event::OutputOverflow);
            }
        } else {
            c.bytes.extend_from_slice(&chunk[..n]);
        }
    }
    let _ = tx.send(Event::OutputClosed);
}

/// The clean environment every suite starts from, with the spec's variables
/// on top.
fn environment(extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        (
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ),
        ("HOME", "/tmp"),
        ("TMPDIR", "/tmp"),
        ("LANG", "C.UTF-8"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        env.retain(|(name, _)| name != k);
        env.push((k.clone(), v.clone()));
    }
    env
}

fn validate(spec: &Spec) -> Result<(), Error> {
    let bad = |reason: &str| {
        Err(Error::InvalidSpec {
            reason: reason.to_string(),
        })
    };
    if spec.command.trim().is_empty() {
        return bad("the command is empty");
    }
    if spec.command.contains('\0') {
        return bad("the command contains a NUL byte");
    }
    if spec.wall_time.is_zero()
        || spec.memory_bytes == 0
        || spec.max_processes == 0
        || spec.max_disk_bytes == 0
        || spec.max_tmp_bytes == 0
    {
        return bad("wall time, memory, process, disk and tmp limits must be above zero");
    }
    if spec
        .env
        .iter()
        .any(|(k, v)| k.is_empty() || k.contains(['=', '\0']) || v.contains('\0'))
    {
        return bad(
            "an environment variable name is empty or holds '=' or NUL, or a value holds NUL",
        );
    }
    Ok(())
}

/// The worktree as an absolute path without symlinks: bwrap binds it at the
/// same place inside, and a relative or symlinked path would not resolve
/// there.
fn workdir(path: &Path) -> Result<PathBuf, Error> {
    let err = |source| Error::Workdir {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.canonicalize().map_err(err)?;
    if !dir.is_dir() {
        return Err(err(io::Error::new(
            io::ErrorKind::NotADirectory,
            "not a directory",
        )));
    }
    // The worktree is bound writable: were it / or /usr, the system would be.
    if bwrap::SYSTEM_PATHS
        .iter()
        .any(|sys| Path::new(sys).starts_with(&dir))
    {
        return Err(Error::InvalidSpec {
            reason: format!(
                "worktree {} is, or contains, a system directory, which would become writable",
                dir.display()
            ),
        });
    }
    Ok(dir)
}

/// `1.5 GiB`, `300 MiB`, `512 bytes`.
fn bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size {
            let whole = n / size;
            let tenth = (n % size) * 10 / size;
            return if tenth == 0 {
                format!("{whole} {unit}")
            } else {
                format!("{whole}.{tenth} {unit}")
            };
        }
    }
    format!("{n} bytes")
}

fn resource(what: &'static str, source: io::Error) -> Error {
    Error::Resource { what, source }
}
