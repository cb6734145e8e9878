//! How much a run has written into its worktree on the host's disk.
//!
//! The worktree is a host folder bound writable, so nothing in the mount
//! namespace stops a suite from filling the host's disk. The kernel offers
//! no per-folder counter without quotas configured on the host's
//! filesystem, so the run's growth is measured by walking the worktree and
//! adding up the blocks of every file created or changed since the run
//! started (its ctime, which a suite cannot set back). A walk of a kernel
//! tree costs tens of milliseconds, so it is not done on a timer: the
//! filesystem's used space (one `statvfs`) is read often, and the tree is
//! walked only when that has grown by a quarter of the limit since the last
//! walk, and always once more at the end. A suite that writes fast still overshoots
//! by at most about a quarter of the limit (plus what other processes on
//! the same filesystem wrote meanwhile only makes it walk sooner).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::sys;

/// Entries visited at most in one walk, so a suite that creates millions of
/// empty files cannot make the walk itself the problem; past it the walk
/// counts what it saw, and reports the tree as over the limit.
const WALK_LIMIT: usize = 2_000_000;

#[derive(Debug)]
pub(crate) struct DiskWatch {
    root: PathBuf,
    limit: u64,
    /// Nanoseconds since the epoch at the run's start, less the coarse
    /// clock's lag: files with a ctime from here on are the run's.
    since_ns: i128,
    /// The filesystem's used bytes at the last walk (or the start).
    used_at_walk: Option<u64>,
    /// What the last walk counted.
    pub written: u64,
}

impl DiskWatch {
    pub(crate) fn new(root: &Path, limit: u64) -> DiskWatch {
        // The sandbox owns the run's timing; the file times it compares
        // with are the kernel's wall clock, so the start must be one too.
        #[allow(clippy::disallowed_methods)]
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        // File times come from the kernel's coarse clock, which may lag the
        // fine one by a tick (at most 10 ms at HZ=100).
        DiskWatch {
            root: root.to_path_buf(),
            limit,
            since_ns: now - 20_000_000,
            used_at_walk: sys::fs_used_bytes(root).ok(),
            written: 0,
        }
    }

    /// True when the run has written more than its limit. Walks the tree
    /// only when the filesystem grew enough since the last walk, or when
    /// `force`d (at the end of the run).
    pub(crate) fn over(&mut self, force: bool) -> bool {
        let used = sys::fs_used_bytes(&self.root).ok();
        let grown = match (used, self.used_at_walk) {
            (Some(now), Some(then)) => now.saturating_sub(then),
            // Without a reading, walk every time asked.
            _ => u64::MAX,
        };
        // At the end the tree is always walked: other processes freeing
        // space on the same filesystem can hide what the run wrote from
        // `statvfs`, and one walk per run costs little beside the run.
        if !force && grown < (self.limit / 4).max(1 << 20) {
            return false;
        }
        self.used_at_walk = used;
        self.written = self.walk();
        self.written > self.limit
    }

    /// Bytes allocated to files changed since the start, without following
    /// links.
    fn walk(&self) -> u64 {
        let mut total = 0u64;
        let mut seen = 0usize;
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                seen += 1;
                if seen > WALK_LIMIT {
                    return u64::MAX;
                }
                let Ok(meta) = entry.metadata() else {
                    continue;
                };
                let ctime =
                    i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec());
                if ctime >= self.since_ns {
                    total = total.saturating_add(meta.blocks().saturating_mul(512));
                }
                if meta.is_dir() {
                    stack.push(entry.path());
                }
            }
        }
        total
    }
}
