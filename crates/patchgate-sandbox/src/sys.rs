//! What the standard library does not offer: sending a signal to a process by
//! id, and preparing a freshly forked child before it executes anything
//! (joining the run's cgroups, dropping inherited descriptors, capping the
//! size of a file), and how full a filesystem is.
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
    signalled(i64::from(rc))
}

/// A signal call's result: a process that is gone already (ESRCH) is not
/// an error.
fn signalled(rc: i64) -> io::Result<()> {
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

/// Arranges for the child that `cmd` spawns, between fork and exec, to join
/// the cgroups whose `cgroup.procs` files are open as `procs_fds`, and to
/// mark every descriptor above stderr close-on-exec.
///
/// Joining before exec is what makes the limits hold from the child's first
/// instruction: a child moved after spawn could fork a tree that escapes.
/// The descriptors must stay open until `spawn` returns.
///
/// bwrap passes inherited descriptors on to the suite, and not every library
/// in this process opens its files close-on-exec (nor did whoever started
/// us): an open database, socket or directory handed to the suite would walk
/// straight past the namespaces.
///
/// `max_file_bytes` becomes `RLIMIT_FSIZE`: no file the suite writes can
/// grow past it, not even one it deleted and keeps open, which no walk of
/// the worktree would see.
pub(crate) fn prepare_child(cmd: &mut Command, procs_fds: Vec<RawFd>, max_file_bytes: u64) {
    let hook = move || -> io::Result<()> {
        // One byte past the limit, so a file cut there is seen as over it.
        let fsize = libc::rlimit {
            rlim_cur: max_file_bytes.saturating_add(1),
            rlim_max: max_file_bytes.saturating_add(1),
        };
        // SAFETY: setrlimit(2) reads the struct on this stack.
        if unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &fsize) } != 0 {
            return Err(io::Error::last_os_error());
        }
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
        cloexec_from(3)
    };
    // SAFETY: the hook runs in the forked child before exec, where only
    // async-signal-safe functions may be called. It calls setrlimit(2),
    // write(2), close_range(2), getrlimit(2) and fcntl(2) only,
    // allocates nothing (the Vec was built in the parent and is only read),
    // takes no locks, and builds its error with `last_os_error`, which reads
    // errno without allocating.
    unsafe {
        cmd.pre_exec(hook);
    }
}

/// Sets close-on-exec on every descriptor from `first` up. Runs in the
/// forked child, so it only makes system calls.
fn cloexec_from(first: u32) -> io::Result<()> {
    // SAFETY: close_range(2) with integer arguments; CLOSE_RANGE_CLOEXEC
    // only sets a flag, so descriptors std still uses (its exec-error pipe)
    // stay usable until exec.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    // Kernels before 5.11 lack the flag: set it one descriptor at a time,
    // up to the descriptor limit.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit(2) writes into the struct we own on this stack.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let last = lim.rlim_cur.min(1 << 16) as i32;
    for fd in first as i32..last {
        // SAFETY: fcntl(2) on an integer; EBADF for unused numbers is fine.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// Bytes in use on the filesystem that holds `path`, as `df` counts them.
pub(crate) fn fs_used_bytes(path: &std::path::Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"))?;
    // SAFETY: an all-zero statvfs is a valid value of this plain C struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs(3) reads the NUL-terminated path and writes into the
    // struct we own on this stack.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let used_blocks = st.f_blocks.saturating_sub(st.f_bfree);
    Ok(used_blocks.saturating_mul(st.f_frsize))
}

/// A descriptor for process `pid` (`pidfd_open(2)`, Linux 5.3): a signal
/// sent through it reaches that process or nobody, never one that got its
/// pid after it was reaped. Open it before anything can reap the child.
pub(crate) fn pidfd_open(pid: i32) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open(2) takes two integers and returns a descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("pidfd out of range"))?;
    // SAFETY: the kernel just returned this descriptor to us; nothing else
    // owns it.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// SIGKILL through a pidfd. A process that has exited already is not an
/// error.
pub(crate) fn pidfd_kill(fd: &std::os::fd::OwnedFd) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: pidfd_send_signal(2) with a descriptor we own, a signal
    // number, a null siginfo and no flags.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            libc::SIGKILL,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    signalled(rc)
}
