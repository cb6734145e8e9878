//! The two system calls the standard library does not offer: sending a signal
//! to a process by id, and moving a freshly forked child into the run's
//! cgroups before it executes anything.
//!
//! This is the only module of the crate that may use `unsafe`; each block is
//! one libc call whose arguments are plain integers or a static byte string.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Sends SIGKILL to `pid` (a process) or, when `pid` is negative, to the
/// process group `-pid`. A process that is already gone is not an error.
pub(crate) fn kill(pid: i32) -> io::Result<()> {
    // Never signal pid 0 or -1: they mean "our own group" and "every process
    // we may signal", which would take down the host's processes.
    if pid == 0 || pid == -1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "refusing to signal pid 0 or -1",
        ));
    }
    // SAFETY: kill(2) takes two integers and touches no memory of ours.
    let rc = unsafe { libc::kill(pid, libc::SIGKILL) };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        Ok(())
    } else {
        Err(err)
    }
}

/// Arranges for the child that `cmd` spawns to join the cgroups whose
/// `cgroup.procs` files are open as `procs_fds`, between fork and exec.
///
/// Joining before exec is what makes the limits hold from the child's first
/// instruction: a child moved after spawn could fork a tree that escapes.
/// The descriptors must stay open until `spawn` returns; they should be
/// close-on-exec (std opens files that way) so the suite never inherits them.
pub(crate) fn join_cgroups_before_exec(cmd: &mut Command, procs_fds: Vec<RawFd>) {
    let hook = move || -> io::Result<()> {
        for &fd in &procs_fds {
            // Writing "0" to cgroup.procs moves the writing process itself
            // (cgroup v1 and v2 both accept it), so no pid has to be
            // formatted here.
            // SAFETY: write(2) on a descriptor the parent opened and keeps
            // open across the fork, from a static buffer of one byte.
            let n = unsafe { libc::write(fd, b"0".as_ptr().cast(), 1) };
            if n != 1 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    };
    // SAFETY: the hook runs in the forked child before exec, where only
    // async-signal-safe functions may be called. It calls write(2) only,
    // allocates nothing (the Vec was built in the parent and is only read),
    // takes no locks, and builds its error with `last_os_error`, which reads
    // errno without allocating.
    unsafe {
        cmd.pre_exec(hook);
    }
}
