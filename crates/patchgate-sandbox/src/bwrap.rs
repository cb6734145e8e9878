//! The bubblewrap command line for one run: which namespaces, which host
//! paths are visible and how, and what is masked.
//!
//! It builds an argument list and never starts a process, so the policy can
//! be read and tested in one place. The one thing it reads from the host is
//! which entries under /etc other users may not read, once per process
//! ([`private_in_etc`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Host paths that make up "the system": tools, libraries and configuration
/// a build needs. Each is bound read-only, or re-created as the same symlink
/// when it is one on the host (merged-/usr systems link /bin to usr/bin).
///
/// The rest of the host (/root, /home, /work, /var, /run, /sys, /srv, /mnt)
/// is not visible at all: a suite's output ends up in public reports, so it
/// must not be able to read what it has no need for.
pub(crate) const SYSTEM_PATHS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
];

/// Files and directories under the system paths that hold host secrets.
/// Inside the sandbox the suite runs as uid 0 (without capabilities), so
/// files readable by root only are still readable by it; these are covered,
/// and so is every other entry under /etc that other users may not read
/// ([`private_in_etc`]).
const MASKED_FILES: &[&str] = &["/etc/shadow", "/etc/gshadow", "/etc/sudoers"];
const MASKED_DIRS: &[&str] = &["/etc/ssh", "/etc/sudoers.d", "/etc/ssl/private"];

/// Parts of procfs that let uid 0 change the host kernel even without
/// capabilities: sysctl files are writable by the global root uid, and the
/// sysrq trigger can reboot the machine. They are re-bound read-only.
const PROC_READ_ONLY: &[&str] = &[
    "/proc/sys",
    "/proc/sysrq-trigger",
    "/proc/irq",
    "/proc/bus",
    "/proc/fs",
];

/// Entries under /etc that other users may not read: a suite runs as a uid
/// that owns them (0, without capabilities), so they are covered instead of
/// shown — private keys, database passwords, keytabs.
#[derive(Debug, Default)]
pub(crate) struct Private {
    pub files: Vec<PathBuf>,
    pub dirs: Vec<PathBuf>,
}

/// Entries visited at most: /etc holds a few thousand.
const ETC_SCAN_LIMIT: usize = 100_000;

/// [`Private`] for /etc, found once per process: walking it for every run
/// would add milliseconds to each.
pub(crate) fn private_in_etc() -> &'static Private {
    static PRIVATE: OnceLock<Private> = OnceLock::new();
    PRIVATE.get_or_init(|| private_under(Path::new("/etc")))
}

/// Walk `root` without following links: a file lacking read permission for
/// others, or a directory lacking read or search permission for others, is
/// private (a private directory is not entered).
pub(crate) fn private_under(root: &Path) -> Private {
    use std::os::unix::fs::PermissionsExt;
    let mut private = Private::default();
    let mut stack = vec![root.to_path_buf()];
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > ETC_SCAN_LIMIT {
                return private;
            }
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let mode = meta.permissions().mode();
            if meta.is_dir() {
                if mode & 0o005 != 0o005 {
                    private.dirs.push(path);
                } else {
                    stack.push(path);
                }
            } else if meta.is_file() && mode & 0o004 == 0 {
                private.files.push(path);
            }
        }
    }
    private
}

/// Directories that get a private, empty, writable tmpfs.
const PRIVATE_TMP: &[&str] = &["/tmp", "/var/tmp", "/dev/shm"];

/// The worktree a run may write, and the folder in it where the command
/// starts (already resolved inside `root`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tree<'a> {
    pub root: &'a Path,
    pub start: &'a Path,
}

/// Builds bwrap's arguments (without the program name) to run `sh -c
/// command` in `tree` (its root bound writable, the command started in
/// `start`; without one, in the private /tmp), with `extra_read_only` host
/// paths visible read-only as well and each private tmpfs `tmp_bytes` large.
pub(crate) fn args(
    tree: Option<Tree<'_>>,
    extra_read_only: &[std::path::PathBuf],
    tmp_bytes: u64,
    command: &str,
) -> Vec<OsString> {
    let mut a = Args::default();
    // Own user, pid, ipc, uts, cgroup and network namespaces. The network
    // namespace holds only its own loopback: the host's, and every other
    // interface, are out of reach.
    a.flag("--unshare-all");
    // --unshare-all only *tries* a user namespace; asking for one explicitly
    // lets --disable-userns stop the suite from nesting its own, which would
    // hand it capabilities over a namespace of its making.
    a.flag("--unshare-user");
    a.flag("--disable-userns");
    // When we, or our thread that spawned it, die, the whole sandbox dies.
    a.flag("--die-with-parent");
    // A new session, so the suite cannot push input into a terminal of ours
    // (TIOCSTI).
    a.flag("--new-session");
    // Run as uid 0 but with no capabilities: bwrap keeps them all for a
    // root caller unless told otherwise.
    a.pair("--cap-drop", "ALL");
    a.pair("--hostname", "patchgate-sandbox");

    for path in SYSTEM_PATHS {
        system_path(&mut a, Path::new(path));
    }
    for path in extra_read_only {
        a.bind("--ro-bind-try", path, path);
    }
    for file in MASKED_FILES {
        if Path::new(file).is_file() {
            a.bind("--ro-bind", Path::new("/dev/null"), Path::new(file));
        }
    }
    for dir in MASKED_DIRS {
        if Path::new(dir).is_dir() {
            a.pair("--tmpfs", dir);
        }
    }
    let private = private_in_etc();
    for file in &private.files {
        a.bind("--ro-bind", Path::new("/dev/null"), file);
    }
    for dir in &private.dirs {
        a.os_pair("--tmpfs", dir.as_os_str());
    }

    a.pair("--dev", "/dev");
    a.pair("--proc", "/proc");
    for path in PROC_READ_ONLY {
        a.bind("--ro-bind-try", Path::new(path), Path::new(path));
    }
    for dir in PRIVATE_TMP {
        // The sandbox's root is bwrap's own tmpfs, so a mount point such as
        // /var/tmp is created there even though the host's /var is not bound.
        // A fixed size, so filling it is "no space left" for the suite
        // rather than the memory limit killing it.
        a.pair("--size", &tmp_bytes.to_string());
        a.pair("--tmpfs", dir);
    }

    // The worktree last, so it is writable even when it lies under /tmp or
    // another path mounted above.
    // The whole worktree is bound, never the start folder itself: bwrap
    // resolves a bind's source on the host, so a start folder that were a
    // symlink would bind whatever it names. --chdir resolves inside the
    // sandbox, where only the worktree is writable.
    let dir = match tree {
        Some(tree) => {
            a.bind("--bind", tree.root, tree.root);
            tree.start
        }
        None => Path::new("/tmp"),
    };
    a.0.push("--chdir".into());
    a.0.push(dir.into());

    a.flag("--");
    a.flag("/bin/sh");
    a.flag("-c");
    a.0.push(command.into());
    a.0
}

/// Adds one system path: a symlink is re-created as the same symlink, a
/// directory is bound read-only, anything missing is left out.
fn system_path(a: &mut Args, path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            if let Ok(target) = std::fs::read_link(path) {
                a.0.push("--symlink".into());
                a.0.push(target.into());
                a.0.push(path.into());
            }
        }
        Ok(meta) if meta.is_dir() => a.bind("--ro-bind", path, path),
        _ => {}
    }
}

#[derive(Default)]
struct Args(Vec<OsString>);

impl Args {
    fn flag(&mut self, f: &str) {
        self.0.push(f.into());
    }
    fn pair(&mut self, f: &str, v: &str) {
        self.0.push(f.into());
        self.0.push(v.into());
    }
    fn os_pair(&mut self, f: &str, v: &std::ffi::OsStr) {
        self.0.push(f.into());
        self.0.push(v.into());
    }
    fn bind(&mut self, f: &str, src: &Path, dst: &Path) {
        self.0.push(f.into());
        self.0.push(src.into());
        self.0.push(dst.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_others_may_not_read_are_private_and_not_entered() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().expect("dir");
        let set = |p: &Path, mode| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod")
        };
        let public = root.path().join("public.conf");
        let key = root.path().join("privkey.pem");
        let keys = root.path().join("private");
        let open = root.path().join("open");
        std::fs::write(&public, "x").expect("write");
        std::fs::write(&key, "secret").expect("write");
        std::fs::create_dir(&keys).expect("mkdir");
        std::fs::write(keys.join("inside"), "secret").expect("write");
        std::fs::create_dir(&open).expect("mkdir");
        std::fs::write(open.join("token"), "secret").expect("write");
        set(&public, 0o644);
        set(&key, 0o600);
        set(&keys, 0o700);
        set(&open.join("token"), 0o640);
        let private = private_under(root.path());
        let mut files = private.files.clone();
        files.sort();
        let mut want = vec![open.join("token"), key];
        want.sort();
        assert_eq!(files, want, "root-only files are private");
        assert_eq!(private.dirs, [keys], "a private directory is covered whole");
    }

    #[test]
    fn worktree_is_bound_writable_after_private_tmp() {
        let tree = Tree {
            root: Path::new("/tmp/wt"),
            start: Path::new("/tmp/wt/tests"),
        };
        let args = args(Some(tree), &[], 1 << 20, "make");
        let pos = |s: &str| args.iter().position(|a| a == s);
        let tmp = args
            .windows(2)
            .position(|w| w[0] == "--tmpfs" && w[1] == "/tmp")
            .unwrap_or(usize::MAX);
        let bind = pos("--bind").unwrap_or(0);
        assert!(tmp < bind, "the worktree must be bound after /tmp's tmpfs");
        assert_eq!(args.last().map(|s| s.as_os_str()), Some("make".as_ref()));
        assert!(pos("--share-net").is_none());
        let bound: Vec<_> = args
            .windows(3)
            .filter(|w| w[0] == "--bind")
            .map(|w| w[1].clone())
            .collect();
        assert_eq!(bound, ["/tmp/wt"], "only the worktree's root is bound");
        let chdir = pos("--chdir").map(|i| args[i + 1].clone());
        assert_eq!(chdir.as_deref(), Some("/tmp/wt/tests".as_ref()));
    }
}
