//! The real sandbox against hostile and ordinary suites. Each test pins one
//! containment promise: the suite is stopped, the host is untouched, nothing
//! survives the run, and the outcome says which limit did it.
//!
//! These need what CI has: bwrap, root, and writable cgroup v1 `pids` and
//! `memory` controllers.

#![allow(clippy::disallowed_methods)] // starts bubblewrap and the suites by design

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use patchgate_sandbox::{Config, Error, Limit, Outcome, Sandbox, Spec, Status};

/// A directory of the test's own, removed at the end; the worktree is a
/// subdirectory so the test can also check the worktree's neighbours.
struct Scratch {
    root: PathBuf,
    worktree: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let root = std::env::temp_dir().join(format!(
            "pg-sandbox-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let worktree = root.join("worktree");
        std::fs::create_dir_all(&worktree).expect("the temp dir is writable");
        Scratch { root, worktree }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn sandbox() -> Sandbox {
    Sandbox::new(Config::default()).expect("bwrap is installed (scripts/setup)")
}

/// A run whose outcome must also report that every protection held.
fn run(spec: &Spec) -> Outcome {
    let outcome = sandbox().run(spec).expect("the sandbox runs the suite");
    // Shown when a test fails (or with --nocapture): how the run ended.
    eprintln!(
        "{:?} after {:?}: limit {:?}, {} bytes of output, peak {:?} bytes / {:?} processes, reaped {}, notes {:?}",
        outcome.status,
        outcome.duration,
        outcome.limit_hit,
        outcome.output.len(),
        outcome.peak_memory_bytes,
        outcome.peak_processes,
        outcome.tree_reaped,
        outcome.notes
    );
    assert!(
        outcome.enforced.all(),
        "not every limit was enforced: {:?}, notes {:?}",
        outcome.enforced,
        outcome.notes
    );
    outcome
}

fn spec(command: &str, dir: &Path) -> Spec {
    let mut spec = Spec::new(command, dir);
    spec.wall_time = Duration::from_secs(20);
    spec.memory_bytes = 256 << 20;
    spec.max_processes = 64;
    spec.max_output_bytes = 1 << 20;
    spec
}

fn text(outcome: &Outcome) -> String {
    String::from_utf8_lossy(&outcome.output).into_owned()
}

/// A string no other process on the machine has on its command line.
fn marker() -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    format!(
        "9{}{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether any process on the host has `pattern` in its command line (what
/// `pgrep -f` does, without needing procps installed).
fn alive(pattern: &str) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        std::fs::read(e.path().join("cmdline")).is_ok_and(|raw| {
            let cmdline: Vec<u8> = raw.iter().map(|&b| if b == 0 { b' ' } else { b }).collect();
            String::from_utf8_lossy(&cmdline).contains(pattern)
        })
    })
}

#[test]
fn writes_outside_the_worktree_fail_and_leave_the_host_untouched() {
    let s = Scratch::new();
    let m = marker();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let system = [
        PathBuf::from(format!("/etc/pg-escape-{m}")),
        PathBuf::from(format!("{home}/pg-escape-{m}")),
        PathBuf::from(format!("/work/pg-escape-{m}")),
    ];
    let mut cmd = String::new();
    for t in &system {
        cmd += &format!(
            "echo x > {} && echo ESCAPED {};\n",
            t.display(),
            t.display()
        );
    }
    // The worktree's parent lies in /tmp here, which is the sandbox's own
    // tmpfs: the write may succeed in there, but must not reach the host.
    let beside = s.root.join(format!("beside-the-worktree-{m}"));
    cmd += &format!("echo x > {};\n", beside.display());
    cmd += "echo inside > inside.txt && echo WROTE-WORKTREE;\n";
    cmd += "echo tmp > /tmp/t && cat /tmp/t && echo WROTE-TMP\n";
    let out = run(&spec(&cmd, &s.worktree));
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    for t in system.iter().chain([&beside]) {
        assert!(!t.exists(), "{} was written on the host", t.display());
    }
    assert!(!log.contains("ESCAPED"), "{log}");
    assert!(
        log.contains("WROTE-WORKTREE") && log.contains("WROTE-TMP"),
        "{log}"
    );
    let inside =
        std::fs::read_to_string(s.worktree.join("inside.txt")).expect("written in the worktree");
    assert_eq!(inside, "inside\n");
    assert_eq!(out.limit_hit, None);
}

#[test]
fn host_loopback_is_unreachable() {
    let s = Scratch::new();
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let port = listener.local_addr().expect("bound").port();
    let cmd = format!(
        "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port} && echo CONNECTED-BASH';\n\
         python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), timeout=2); print(\"CONNECTED-PY\")';\n\
         echo done"
    );
    let out = run(&spec(&cmd, &s.worktree));
    let log = text(&out);
    assert!(!log.contains("CONNECTED"), "{log}");
    assert!(log.contains("done"), "{log}");
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the host listener saw a connection: {other:?}"),
    }
}

#[test]
fn fork_bomb_is_stopped_at_the_process_limit_and_nothing_survives() {
    let s = Scratch::new();
    let mut sp = spec("f(){ f | f & }; f; sleep 60", &s.worktree);
    sp.max_processes = 40;
    sp.wall_time = Duration::from_secs(60);
    let out = run(&sp);
    assert_eq!(out.limit_hit, Some(Limit::Processes), "{out:?}");
    // Killed when the limit is hit, not left spinning until the wall time.
    assert!(out.duration < Duration::from_secs(20), "{:?}", out.duration);
    // bwrap's own two processes come on top of the suite's allowance.
    let peak = out.peak_processes.expect("pids.peak is read");
    assert!(peak <= 40 + 2, "peak {peak} processes");
    assert!(out.tree_reaped, "{out:?}");
}

#[test]
fn background_spawns_stop_at_the_limit_and_are_killed_with_the_run() {
    let s = Scratch::new();
    let m = marker();
    let cmd = format!(
        "i=0; while [ $i -lt 500 ]; do sleep {m} & i=$((i+1)); echo started $i; done; wait"
    );
    let mut sp = spec(&cmd, &s.worktree);
    sp.max_processes = 20;
    let out = run(&sp);
    let log = text(&out);
    let started = log
        .lines()
        .filter_map(|l| l.strip_prefix("started ")?.trim().parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    // The shell itself is one of the 20.
    assert!((1..=19).contains(&started), "started {started}: {log}");
    assert_eq!(out.limit_hit, Some(Limit::Processes), "{log}");
    assert!(out.tree_reaped);
    assert!(
        !alive(&format!("sleep {m}")),
        "a background sleep survived the run"
    );
}

#[test]
fn endless_output_is_cut_at_the_limit_and_killed() {
    let s = Scratch::new();
    let out = run(&spec("yes", &s.worktree));
    assert_eq!(out.limit_hit, Some(Limit::Output));
    assert!(out.truncated);
    assert_eq!(out.output.len(), 1 << 20);
    assert!(!out.status.success());
    assert!(out.duration < Duration::from_secs(10), "{:?}", out.duration);
    assert!(out.tree_reaped);
}

#[test]
fn memory_hog_is_killed_at_the_memory_limit() {
    let s = Scratch::new();
    // tail keeps the last line in memory, and /dev/zero has no newline.
    let mut sp = spec("head -c 2G /dev/zero | tail", &s.worktree);
    sp.memory_bytes = 100 << 20;
    let out = run(&sp);
    assert_eq!(out.limit_hit, Some(Limit::Memory), "{out:?}");
    assert!(!out.status.success());
    let peak = out
        .peak_memory_bytes
        .expect("memory.max_usage_in_bytes is read");
    assert!(peak <= 100 << 20, "peak {peak} bytes");
    assert!(out.tree_reaped);
}

#[test]
fn wall_time_kills_the_command_and_its_background_children() {
    let s = Scratch::new();
    let m = marker();
    let mut sp = spec(&format!("sleep 600{m} & sleep 60"), &s.worktree);
    sp.wall_time = Duration::from_secs(1);
    let out = run(&sp);
    assert_eq!(out.limit_hit, Some(Limit::WallTime));
    assert_eq!(out.status, Status::Signaled(9));
    assert!(
        out.duration >= Duration::from_secs(1) && out.duration < Duration::from_secs(3),
        "{:?}",
        out.duration
    );
    assert!(out.tree_reaped);
    assert!(
        !alive(&format!("sleep 600{m}")),
        "the background sleep survived"
    );
}

#[test]
fn an_ordinary_build_passes_with_its_output_captured() {
    let s = Scratch::new();
    std::fs::write(
        s.worktree.join("hello.c"),
        "#include <stdio.h>\nint main(void) { puts(\"hello from the sandbox\"); return 0; }\n",
    )
    .expect("writable worktree");
    let mut sp = spec(
        "cc -o hello hello.c && ./hello && echo to-stderr >&2",
        &s.worktree,
    );
    sp.env.push(("PG_SUITE".into(), "unit".into()));
    let out = run(&sp);
    let log = text(&out);
    assert_eq!(out.status, Status::Exited(0), "{log}");
    assert!(
        log.contains("hello from the sandbox") && log.contains("to-stderr"),
        "{log}"
    );
    assert_eq!(out.limit_hit, None);
    assert!(!out.truncated);
    assert!(s.worktree.join("hello").is_file());
}

#[test]
fn the_environment_starts_clean() {
    let s = Scratch::new();
    let mut sp = spec("env", &s.worktree);
    sp.env.push(("PG_SUITE".into(), "unit".into()));
    let out = run(&sp);
    let log = text(&out);
    assert!(
        log.contains("PG_SUITE=unit") && log.contains("HOME=/tmp"),
        "{log}"
    );
    let names: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .collect();
    for name in &names {
        assert!(
            ["PATH", "HOME", "TMPDIR", "LANG", "PG_SUITE", "PWD", "SHLVL", "_"].contains(name),
            "unexpected variable {name} in {log}"
        );
    }
}

#[test]
fn without_bwrap_it_refuses_unless_unconfined_is_allowed() {
    let missing = Config {
        bwrap: Some("/nonexistent/bwrap".into()),
        ..Config::default()
    };
    let err = Sandbox::new(missing.clone()).expect_err("no bwrap, no sandbox");
    assert!(err.to_string().contains("refusing to run"), "{err}");

    let sandbox = Sandbox::new(Config {
        allow_unconfined: true,
        ..missing
    })
    .expect("allowed");
    assert!(sandbox
        .capabilities()
        .summary()
        .contains("isolation: NOT enforced"));
    let s = Scratch::new();
    let out = sandbox
        .run(&spec("echo ran", &s.worktree))
        .expect("runs unconfined");
    assert!(out.status.success());
    assert!(!out.enforced.isolation);
    assert!(
        out.notes.iter().any(|n| n.contains("UNCONFINED")),
        "{:?}",
        out.notes
    );
}

#[test]
fn a_missing_worktree_is_an_error_not_an_outcome() {
    let s = Scratch::new();
    let err = sandbox()
        .run(&spec("true", &s.root.join("no-such-worktree")))
        .expect_err("nothing to run in");
    assert!(err.to_string().contains("no-such-worktree"), "{err}");

    let err = sandbox()
        .run(&spec("true", Path::new("/")))
        .expect_err("/ is no worktree");
    assert!(err.to_string().contains("system directory"), "{err}");
}

/// This process's cgroup in the v1 pids hierarchy, where run cgroups go.
fn pids_base() -> PathBuf {
    let own = std::fs::read_to_string("/proc/self/cgroup").expect("procfs");
    let rel = own
        .lines()
        .find_map(|l| {
            l.splitn(3, ':')
                .nth(2)
                .filter(|_| l.split(':').nth(1) == Some("pids"))
        })
        .expect("a pids cgroup");
    Path::new("/sys/fs/cgroup/pids").join(rel.trim_start_matches('/'))
}

#[test]
fn cgroups_left_by_a_dead_patchgate_are_emptied_and_removed_at_start() {
    // A pid that has just exited stands for the crashed owner.
    let mut gone = Command::new("true").spawn().expect("true runs");
    let dead_pid = gone.id();
    gone.wait().expect("true exits");
    let stale = pids_base().join(format!("patchgate-{dead_pid}-1-0"));
    let m = marker();
    let mut orphan = Command::new("sleep")
        .arg(format!("300{m}"))
        .spawn()
        .expect("sleep runs");
    // Also shows that `alive` sees a process it should, once it has
    // reached its exec (until then its command line is still ours). Seen
    // before it joins the stale cgroup: from then on any test's sandbox may
    // clean it up.
    let seen = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        alive(&format!("sleep 300{m}"))
    });
    assert!(seen, "the orphan is not seen alive");
    std::fs::create_dir(&stale).expect("a writable pids cgroup");
    std::fs::write(stale.join("cgroup.procs"), orphan.id().to_string())
        .expect("joins the stale cgroup");
    let _ = sandbox();

    let status = orphan.wait().expect("the orphan is reaped");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    assert!(!stale.exists(), "{} is still there", stale.display());
}

/// Root in the sandbox keeps uid 0, which may write sysctls and read
/// root-only files; the sandbox must take away what that would give.
#[test]
fn root_inside_has_no_capabilities_sysctls_or_host_secrets() {
    let s = Scratch::new();
    // domainname is per UTS namespace, so this probe is harmless even if
    // /proc/sys were writable.
    let cmd = "grep CapEff /proc/self/status;\n\
               echo probe > /proc/sys/kernel/domainname && echo SYSCTL-WRITTEN;\n\
               ls /root && echo SAW-ROOT-HOME;\n\
               grep -q root /etc/shadow && echo SAW-SHADOW;\n\
               unshare -U true && echo NESTED-USERNS;\n\
               mount -t tmpfs none /tmp && echo MOUNTED;\n\
               echo end";
    let out = run(&spec(cmd, &s.worktree));
    let log = text(&out);
    assert!(log.contains("CapEff:\t0000000000000000"), "{log}");
    for forbidden in [
        "SYSCTL-WRITTEN",
        "SAW-ROOT-HOME",
        "SAW-SHADOW",
        "NESTED-USERNS",
        "MOUNTED",
    ] {
        assert!(!log.contains(forbidden), "{forbidden}: {log}");
    }
    assert!(log.contains("end"), "{log}");
}

#[test]
fn no_descriptor_of_the_host_process_leaks_into_the_suite() {
    let s = Scratch::new();
    let out = run(&spec("ls /proc/self/fd", &s.worktree));
    let fds: Vec<String> = text(&out).split_whitespace().map(str::to_string).collect();
    // 0-2 are the null stdin and the output pipe; 3 is ls' own directory.
    assert_eq!(fds, ["0", "1", "2", "3"], "leaked: {fds:?}");
}

#[test]
fn limits_at_their_extremes_do_not_panic() {
    let s = Scratch::new();
    let mut sp = spec("echo fine", &s.worktree);
    sp.wall_time = Duration::MAX;
    sp.max_processes = u64::MAX;
    // Either it runs or the kernel refuses the number, named in the error.
    match sandbox().run(&sp) {
        Ok(out) => assert!(out.status.success()),
        Err(e) => assert!(e.to_string().contains("pids.max"), "{e}"),
    }
}

/// A series may replace the suite's folder with a symlink. The run must
/// neither bind nor start in what it names.
fn refused(s: &Scratch, subdir: &str) -> Error {
    let marker = s.root.join("host-file");
    let mut sp = spec(
        &format!("touch {}; echo ran", marker.display()),
        &s.worktree,
    );
    sp.subdir = PathBuf::from(subdir);
    let got = sandbox().run(&sp);
    assert!(
        !marker.exists(),
        "{subdir}: the suite wrote outside the worktree"
    );
    match got {
        Err(e) => e,
        Ok(out) => panic!("{subdir}: ran: {}", text(&out)),
    }
}

#[test]
fn a_workdir_symlinked_to_a_host_folder_is_refused() {
    let s = Scratch::new();
    let host = s.root.join("host-dir");
    std::fs::create_dir(&host).expect("mkdir");
    std::os::unix::fs::symlink(&host, s.worktree.join("tests")).expect("symlink");
    let err = refused(&s, "tests");
    assert!(matches!(err, Error::Path(_)), "{err}");
    assert!(err.to_string().contains("outside the tree"), "{err}");
    assert_eq!(std::fs::read_dir(&host).expect("dir").count(), 0);
}

#[test]
fn a_workdir_symlinked_to_the_state_dir_is_refused() {
    // The worktree lives under the state directory, beside the database:
    // `tests -> ../..` would reach it.
    let s = Scratch::new();
    std::fs::write(s.root.join("patchgate.sqlite"), "db").expect("write");
    std::os::unix::fs::symlink("..", s.worktree.join("tests")).expect("symlink");
    std::fs::create_dir_all(s.worktree.join("a/b")).expect("mkdir");
    std::os::unix::fs::symlink("../../..", s.worktree.join("a/b/up")).expect("symlink");
    for subdir in ["tests", "a/b/up", "..", "a/../..", "a/b/../../../worktree"] {
        let err = refused(&s, subdir);
        assert!(matches!(err, Error::Path(_)), "{subdir}: {err}");
    }
    assert!(matches!(refused(&s, "/tmp"), Error::Path(_)));
}

#[test]
fn a_workdir_linked_inside_the_tree_runs_there() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.worktree.join("real/unit")).expect("mkdir");
    std::os::unix::fs::symlink("real/unit", s.worktree.join("tests")).expect("symlink");
    let mut sp = spec("pwd; touch here", &s.worktree);
    sp.subdir = PathBuf::from("tests");
    let out = run(&sp);
    assert_eq!(out.status, Status::Exited(0), "{}", text(&out));
    assert!(
        s.worktree.join("real/unit/here").is_file(),
        "{}",
        text(&out)
    );
}

#[test]
fn writing_without_bound_to_the_worktree_is_stopped_at_the_disk_limit() {
    let s = Scratch::new();
    // Many files, none large: only the watch of the worktree stops this.
    let mut sp = spec(
        "i=0; while true; do head -c 1048576 /dev/zero > f$i; i=$((i+1)); done",
        &s.worktree,
    );
    sp.max_disk_bytes = 40 << 20;
    sp.wall_time = Duration::from_secs(60);
    let out = run(&sp);
    assert_eq!(out.limit_hit, Some(Limit::Disk), "{out:?}");
    assert!(out.duration < Duration::from_secs(30), "{:?}", out.duration);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("more than its disk limit of 40 MiB")),
        "{:?}",
        out.notes
    );
    assert!(out.tree_reaped);
}

#[test]
fn one_file_cannot_grow_past_the_disk_limit() {
    let s = Scratch::new();
    let mut sp = spec("head -c 200M /dev/zero > big; echo status $?", &s.worktree);
    sp.max_disk_bytes = 30 << 20;
    let out = run(&sp);
    assert_eq!(out.limit_hit, Some(Limit::Disk), "{out:?}");
    let size = std::fs::metadata(s.worktree.join("big")).map_or(0, |m| m.len());
    assert!(size <= (30 << 20) + 1, "the file grew to {size} bytes");
}

#[test]
fn the_private_tmp_is_full_at_its_size_not_a_memory_kill() {
    let s = Scratch::new();
    let mut sp = spec(
        "head -c 64M /dev/zero > /tmp/fill; echo status $?; df -k /tmp | tail -1",
        &s.worktree,
    );
    sp.max_tmp_bytes = 16 << 20;
    let out = run(&sp);
    let log = text(&out);
    assert!(log.contains("No space left on device"), "{log}");
    assert!(log.contains("status 1"), "{log}");
    assert_eq!(out.limit_hit, None, "{log}");
}
