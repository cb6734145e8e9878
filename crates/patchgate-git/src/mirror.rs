//! A bare mirror of one tree: cloning, fetching, and the questions patchgate
//! asks of history (where is a branch, where was it at a date, which files
//! does a range touch).
//!
//! The mirror is a `git clone --bare` whose fetch refspec copies branches and
//! tags only, not `--mirror`: `fetch --prune` would then delete every ref the
//! remote lacks, including refs patchgate may keep under `refs/patchgate/`.

use std::path::{Path, PathBuf};

use crate::command::{Cmd, GitEnv};
use crate::error::{io_error, GitError, Result};
use crate::oid::Oid;

/// A bare repository patchgate owns, following one upstream tree.
#[derive(Debug, Clone)]
pub struct Mirror {
    dir: PathBuf,
    env: GitEnv,
}

impl Mirror {
    /// Opens the mirror in `dir`, cloning `source` (URL or path) there first
    /// when `dir` does not exist yet. Runs git with [`GitEnv::isolated`].
    pub fn open_or_clone(source: &str, dir: impl AsRef<Path>) -> Result<Mirror> {
        Mirror::open_or_clone_with(source, dir, GitEnv::isolated())
    }

    /// Like [`Mirror::open_or_clone`], with git in the given environment.
    pub fn open_or_clone_with(source: &str, dir: impl AsRef<Path>, env: GitEnv) -> Result<Mirror> {
        let dir = absolute(dir.as_ref())?;
        let parent = dir.parent().unwrap_or(Path::new("/")).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;
        // Two workers starting at once must not both clone.
        let _lock = MirrorLock::take(&dir)?;
        if dir.join("HEAD").is_file() {
            return Ok(Mirror { dir, env });
        }
        if dir.exists() {
            return Err(GitError::Unexpected {
                repo: dir.clone(),
                args: "clone".into(),
                detail: "the directory exists but is not a bare git repository".into(),
            });
        }
        // Clone beside the final place and rename: a clone cut short by a
        // crash then never looks like a usable mirror.
        let partial = dir.with_extension("partial");
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(io_error(&partial))?;
        }
        // git runs in `parent`, so a relative local path must be made
        // absolute against ours first; URLs are passed as they are.
        let local = Path::new(source);
        let source = if !source.contains("://") && local.exists() {
            absolute(local)?.into_os_string()
        } else {
            source.into()
        };
        env.command(&parent)
            .args(["clone", "--bare", "--quiet", "--"])
            .arg(&source)
            .arg(&partial)
            .run()?;
        for refspec in ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"] {
            env.command(&partial)
                .args(["config", "--add", "remote.origin.fetch", refspec])
                .run()?;
        }
        std::fs::rename(&partial, &dir).map_err(io_error(&dir))?;
        Ok(Mirror { dir, env })
    }

    /// Pack and prune the mirror if git finds it worth it (objects of
    /// applied series accumulate in it), under the mirror's lock so that no
    /// worktree is added or removed meanwhile.
    pub fn maintain(&self) -> Result<()> {
        let _lock = self.lock()?;
        self.git()
            .args(["-c", "maintenance.auto=true", "-c", "gc.auto=6700"])
            .args(["maintenance", "run", "--auto", "--quiet"])
            .run()?;
        Ok(())
    }

    /// Hold the mirror's lock while git changes what all its users share
    /// (refs, the worktree list); released when the guard is dropped.
    pub(crate) fn lock(&self) -> Result<MirrorLock> {
        MirrorLock::take(&self.dir)
    }

    /// The bare repository's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn git(&self) -> Cmd {
        self.env.command(&self.dir)
    }

    pub(crate) fn env(&self) -> &GitEnv {
        &self.env
    }

    /// Brings branches and tags up to date with upstream, dropping those
    /// deleted there.
    pub fn fetch(&self) -> Result<()> {
        let _lock = self.lock()?;
        self.git()
            .args(["fetch", "--prune", "--quiet", "origin"])
            .run()?;
        Ok(())
    }

    /// The commit `rev` names (any revision expression git accepts), or
    /// `None` when it names nothing or something that is not a commit.
    pub fn resolve(&self, rev: &str) -> Result<Option<Oid>> {
        self.check_rev(rev)?;
        let output = self
            .git()
            .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
            .arg(format!("{rev}^{{commit}}"))
            .output()?;
        if !output.status.success() {
            return Ok(None);
        }
        self.parse_oid(&output.stdout_text(), "rev-parse").map(Some)
    }

    /// The commit at the tip of branch `name`, if the branch exists.
    pub fn branch_head(&self, name: &str) -> Result<Option<Oid>> {
        self.resolve(&format!("refs/heads/{name}"))
    }

    /// The committer date of a commit, in Unix time.
    pub fn commit_date(&self, oid: &Oid) -> Result<i64> {
        let cmd = self
            .git()
            .args(["show", "-s", "--format=%ct", oid.as_str()]);
        let args = cmd.args_text();
        let text = cmd.run_text()?;
        text.trim()
            .parse()
            .map_err(|_| self.unexpected(&args, &text))
    }

    /// Branch `name` as it stood at `unix_time`: the newest commit on its
    /// first-parent line committed no later than that.
    pub fn branch_at(&self, name: &str, unix_time: i64) -> Result<Option<Oid>> {
        if self.branch_head(name)?.is_none() {
            return Ok(None);
        }
        let text = self
            .git()
            .args(["rev-list", "-1", "--first-parent"])
            .arg(format!("--before=@{unix_time}"))
            .arg(format!("refs/heads/{name}"))
            .arg("--")
            .run_text()?;
        match text.trim() {
            "" => Ok(None),
            line => self.parse_oid(line, "rev-list").map(Some),
        }
    }

    /// The first-parent line of branch `name`, newest first: at most `max`
    /// commits, committed no later than `before` (Unix time) when given.
    pub fn first_parents(&self, name: &str, before: Option<i64>, max: usize) -> Result<Vec<Oid>> {
        self.commits_between(name, true, None, before, max)
    }

    /// The commits reachable from branch `name` (only its first-parent
    /// line with `first_parent`), newest first: at most `max`, committed
    /// after `after` and no later than `before` (Unix times) when given.
    pub fn commits_between(
        &self,
        name: &str,
        first_parent: bool,
        after: Option<i64>,
        before: Option<i64>,
        max: usize,
    ) -> Result<Vec<Oid>> {
        // A branch the mirror does not have lists nothing.
        let mut cmd = self
            .git()
            .args(["rev-list", "--ignore-missing"])
            .arg(format!("--max-count={max}"));
        if first_parent {
            cmd = cmd.arg("--first-parent");
        }
        if let Some(t) = before {
            cmd = cmd.arg(format!("--before=@{t}"));
        }
        if let Some(t) = after {
            cmd = cmd.arg(format!("--after=@{t}"));
        }
        let text = cmd.arg(format!("refs/heads/{name}")).arg("--").run_text()?;
        text.lines()
            .map(|line| self.parse_oid(line, "rev-list"))
            .collect()
    }

    /// The blob each of `paths` has in each of `commits` (`None`: no such
    /// file there), asked of one `git cat-file --batch-check`.
    pub fn blobs_at(&self, commits: &[Oid], paths: &[String]) -> Result<Vec<Vec<Option<String>>>> {
        if commits.is_empty() || paths.is_empty() {
            return Ok(vec![vec![None; paths.len()]; commits.len()]);
        }
        // A path with a newline would break the line protocol; it cannot
        // name a blob anyway.
        let mut input = String::new();
        for c in commits {
            for p in paths {
                let p = if p.contains('\n') {
                    "\u{0}"
                } else {
                    p.as_str()
                };
                input.push_str(&format!("{c}:{p}\n"));
            }
        }
        let cmd = self
            .git()
            .args(["cat-file", "--batch-check=%(objectname) %(objecttype)"]);
        let args = cmd.args_text();
        let out = cmd.output_with_input(input.as_bytes())?;
        let text = out.stdout_text();
        let mut answers = text.lines().map(|line| match line.split_once(' ') {
            Some((oid, "blob")) => Some(oid.to_string()),
            _ => None,
        });
        let mut table = Vec::with_capacity(commits.len());
        for _ in commits {
            let mut row = Vec::with_capacity(paths.len());
            for _ in paths {
                match answers.next() {
                    Some(a) => row.push(a),
                    None => return Err(self.unexpected(&args, &text)),
                }
            }
            table.push(row);
        }
        Ok(table)
    }

    /// The newest commit reachable from `tip`, committed at or after
    /// `since` (Unix time), whose subject is exactly `subject`: where a
    /// patch that changes nothing on `tip` landed.
    pub fn find_by_subject(&self, tip: &Oid, subject: &str, since: i64) -> Result<Option<Oid>> {
        let subject = subject.trim();
        if subject.is_empty() || subject.contains('\0') {
            return Ok(None);
        }
        let text = self
            .git()
            .args(["log", "--format=%H %s", "--fixed-strings"])
            .arg(format!("--grep={subject}"))
            .arg(format!("--since=@{since}"))
            .arg(tip.as_str())
            .arg("--")
            .run_text()?;
        for line in text.lines() {
            if let Some((oid, s)) = line.split_once(' ') {
                if s.trim() == subject {
                    return self.parse_oid(oid, "log").map(Some);
                }
            }
        }
        Ok(None)
    }

    /// `git range-diff` of two ranges (e.g. a series' v1 and v2), without
    /// colour: what changed between two revisions of the same work.
    pub fn range_diff(&self, old: &str, new: &str) -> Result<String> {
        self.check_rev(old)?;
        self.check_rev(new)?;
        self.git()
            .args(["range-diff", "--no-color", old, new])
            .run_text()
    }

    fn check_rev(&self, rev: &str) -> Result<()> {
        if rev.starts_with('-') {
            return Err(GitError::BadRevision {
                repo: self.dir.clone(),
                rev: rev.to_owned(),
            });
        }
        Ok(())
    }

    pub(crate) fn parse_oid(&self, text: &str, args: &str) -> Result<Oid> {
        Oid::parse(text).map_err(|_| self.unexpected(args, text))
    }

    pub(crate) fn unexpected(&self, args: &str, text: &str) -> GitError {
        GitError::Unexpected {
            repo: self.dir.clone(),
            args: args.to_owned(),
            detail: format!("{:?}", text.trim()),
        }
    }
}

/// Makes `path` absolute against the current directory, so that git, which
/// runs in other directories, finds it.
pub(crate) fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(io_error(path))
}

/// An exclusive advisory lock on a mirror, across threads and processes:
/// `DIR.lock` beside the mirror, held by an open file and released when the
/// file is closed (also when the holder dies).
#[derive(Debug)]
pub(crate) struct MirrorLock {
    /// Held only to be closed on drop, which releases the lock.
    _file: std::fs::File,
}

impl MirrorLock {
    pub(crate) fn take(mirror: &Path) -> Result<MirrorLock> {
        let path = mirror.with_extension("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error(&path))?;
        file.lock().map_err(io_error(&path))?;
        Ok(MirrorLock { _file: file })
    }
}
