//! Detached worktrees of a mirror, one per job, and applying a series in one
//! with `git am`.
//!
//! A worktree is removed when its value is dropped, so a job that fails or
//! panics leaves nothing behind; a process that crashes leaves directories
//! that [`Mirror::prune_stale_worktrees`] clears on the next start.

use std::path::{Path, PathBuf};

use crate::command::Cmd;
use crate::error::{io_error, GitError, Result};
use crate::mirror::{absolute, Mirror};
use crate::oid::Oid;

/// A checkout of one commit, detached, in a directory of its own.
#[derive(Debug)]
pub struct Worktree {
    mirror: Mirror,
    dir: PathBuf,
    removed: bool,
    /// The commit checked out, as this worktree's own operations left it:
    /// `am` starts from it without asking git.
    at: std::cell::RefCell<Oid>,
}

/// Who commits the applied patches, and when. The author of each commit
/// comes from its mail; fixing the committer too makes the commit ids of an
/// applied series the same on every run and every machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmOptions {
    /// Fall back to a three-way merge when a patch does not apply as is
    /// (`git am -3`).
    pub three_way: bool,
    pub committer_name: String,
    pub committer_email: String,
    /// A date git understands (`@1700000000 +0000`, RFC 2822, ISO 8601);
    /// `None` means now.
    pub committer_date: Option<String>,
}

impl Default for AmOptions {
    fn default() -> Self {
        AmOptions {
            three_way: true,
            committer_name: "patchgate".into(),
            committer_email: "patchgate@localhost".into(),
            committer_date: None,
        }
    }
}

/// The series applied: one new commit per patch, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The commit the series was applied on.
    pub base: Oid,
    pub commits: Vec<Oid>,
    /// Each patch as git read it, in order: its subject and how it went.
    pub patches: Vec<AppliedPatch>,
}

/// How one patch of an applied series went on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPatch {
    /// The commit subject git read from the mail.
    pub subject: String,
    /// git found nothing to change ("No changes -- Patch already
    /// applied"): the base has the change already, and no commit was made.
    pub already_applied: bool,
    /// The patch did not apply as posted and went on by a three-way merge
    /// with the blobs its `index` lines name.
    pub three_way: bool,
}

/// What git am's progress lines say of each patch.
fn patches_in(stdout: &str) -> Vec<AppliedPatch> {
    let mut out: Vec<AppliedPatch> = Vec::new();
    for line in stdout.lines() {
        if let Some(subject) = line.strip_prefix("Applying: ") {
            out.push(AppliedPatch {
                subject: subject.to_string(),
                already_applied: false,
                three_way: false,
            });
        } else if let Some(last) = out.last_mut() {
            if line.starts_with("No changes -- Patch already applied") {
                last.already_applied = true;
            } else if line.starts_with("Falling back to patching base and 3-way merge") {
                last.three_way = true;
            }
        }
    }
    out
}

impl Applied {
    /// The last commit, or the base for an empty series.
    pub fn head(&self) -> &Oid {
        self.commits.last().unwrap_or(&self.base)
    }
}

/// Why a series did not apply: a verdict on the series, reported to its
/// submitter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmFailure {
    /// 1-based position in the mbox of the patch that failed; 0 when git
    /// stopped before reading any patch (e.g. the input held no patch).
    pub index: usize,
    /// How many messages git found in the mbox, when it got that far.
    pub total: Option<usize>,
    /// The failing patch's subject as git read it (prefix stripped).
    pub subject: String,
    /// The files that did not apply or did not merge.
    pub files: Vec<String>,
    /// What git said.
    pub message: String,
}

/// What `am` did with a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmOutcome {
    Applied(Applied),
    Failed(AmFailure),
}

impl Mirror {
    /// Checks out `oid` in a new detached worktree at `dir`.
    ///
    /// A worktree of this mirror left at `dir` by an earlier attempt is
    /// removed first; any other existing `dir` is an error, never deleted.
    pub fn add_worktree(&self, dir: impl AsRef<Path>, oid: &Oid) -> Result<Worktree> {
        let dir = absolute(dir.as_ref())?;
        let _lock = self.lock()?;
        if dir.exists() {
            if belongs_to(&dir, self.dir()) {
                remove_worktree_locked(self, &dir)?;
            } else {
                return Err(GitError::Unexpected {
                    repo: self.dir().to_path_buf(),
                    args: format!("worktree add {}", dir.display()),
                    detail: "the directory exists and is not a worktree of this mirror".into(),
                });
            }
        }
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        self.git()
            .args(["worktree", "add", "--detach", "--quiet"])
            .arg(&dir)
            .arg(oid.as_str())
            .run()?;
        Ok(Worktree {
            mirror: self.clone(),
            dir,
            removed: false,
            at: std::cell::RefCell::new(oid.clone()),
        })
    }

    /// Clears what a crashed process left: worktree entries whose directory
    /// is gone, and directories directly under `jobs_dir` that are worktrees
    /// of this mirror or orphans of a worktree whose entry is gone. Returns
    /// how many directories were removed.
    ///
    /// `in_use` says which directories still belong to a live job (another
    /// process may be using this mirror right now): those are left alone. A
    /// directory that cannot be removed (a suite may leave one without write
    /// permission) is passed over, so it never stops the others' removal.
    pub fn prune_stale_worktrees(
        &self,
        jobs_dir: impl AsRef<Path>,
        in_use: &dyn Fn(&Path) -> bool,
    ) -> Result<usize> {
        let jobs_dir = absolute(jobs_dir.as_ref())?;
        let entries = match std::fs::read_dir(&jobs_dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(error) => return Err(io_error(&jobs_dir)(error)),
        };
        let mut removed = 0;
        for entry in entries {
            let path = entry.map_err(io_error(&jobs_dir))?.path();
            if !path.is_dir() || in_use(&path) {
                continue;
            }
            let stale = belongs_to(&path, self.dir()) || orphaned(&path);
            if stale && remove_worktree(self, &path).is_ok() {
                removed += 1;
            }
        }
        // git's own records of worktrees whose folder is gone: read here,
        // so the common case (none) costs no process.
        if removed > 0 || self.has_dangling_worktree_records() {
            self.git().args(["worktree", "prune"]).run()?;
        }
        Ok(removed)
    }
}

impl Mirror {
    /// Whether git records a worktree (`worktrees/*/gitdir`) whose folder
    /// no longer exists.
    fn has_dangling_worktree_records(&self) -> bool {
        let Ok(entries) = std::fs::read_dir(self.dir().join("worktrees")) else {
            return false;
        };
        entries.flatten().any(|e| {
            match std::fs::read_to_string(e.path().join("gitdir")) {
                Ok(gitdir) => !Path::new(gitdir.trim()).exists(),
                // A record without its gitdir file is broken: prune it.
                Err(_) => true,
            }
        })
    }
}

impl Worktree {
    /// The checked-out directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The mirror this worktree belongs to.
    pub fn mirror(&self) -> &Mirror {
        &self.mirror
    }

    fn git(&self) -> Cmd {
        self.mirror.env().command(&self.dir)
    }

    /// The commit checked out now.
    pub fn head(&self) -> Result<Oid> {
        let text = self
            .git()
            .args(["rev-parse", "--verify", "HEAD"])
            .run_text()?;
        self.mirror.parse_oid(&text, "rev-parse HEAD")
    }

    /// Makes the worktree exactly `oid`'s tree again: tracked files as
    /// committed, nothing else (what a suite built or left is removed, even
    /// ignored files). Cheaper than a second worktree: only the files that
    /// differ are written.
    /// `untracked` says whether anything not from git may be there (a
    /// suite ran): only then is the tree cleaned, which walks all of it.
    pub fn switch_to(&self, oid: &Oid, untracked: bool) -> Result<()> {
        self.git()
            .args(["checkout", "--force", "--detach", "--quiet", oid.as_str()])
            .run()?;
        if untracked {
            self.git().args(["clean", "-ffdxq"]).run()?;
        }
        *self.at.borrow_mut() = oid.clone();
        Ok(())
    }

    /// Applies the patches in `mbox` on the current commit, one commit each.
    /// The mbox is read as `git format-patch` writes it and plain `git am`
    /// reads it (no `>From ` unescaping), the format
    /// `patchgate_mail::render_am` writes.
    ///
    /// A series that does not apply is `Ok(AmOutcome::Failed)`, after which
    /// the worktree is back at the commit it started from; `Err` means git
    /// itself could not be run or read.
    pub fn am(&self, mbox: &[u8], options: &AmOptions) -> Result<AmOutcome> {
        let base = self.at.borrow().clone();
        let mut cmd = self
            .git()
            .args(["am", "--no-gpg-sign", "--patch-format=mbox"])
            .env("GIT_COMMITTER_NAME", &options.committer_name)
            .env("GIT_COMMITTER_EMAIL", &options.committer_email);
        if options.three_way {
            cmd = cmd.arg("--3way");
        }
        if let Some(date) = &options.committer_date {
            cmd = cmd.env("GIT_COMMITTER_DATE", date);
        }
        let output = cmd.output_with_input(mbox)?;
        if output.status.success() {
            let range = format!("{base}..HEAD");
            let text = self
                .git()
                .args(["rev-list", "--reverse", &range])
                .run_text()?;
            let commits = text
                .lines()
                .map(|line| self.mirror.parse_oid(line, "rev-list"))
                .collect::<Result<Vec<_>>>()?;
            let patches = patches_in(&output.stdout_text());
            if let Some(last) = commits.last() {
                *self.at.borrow_mut() = last.clone();
            }
            return Ok(AmOutcome::Applied(Applied {
                base,
                commits,
                patches,
            }));
        }
        // git's hints tell a person at a terminal how to continue the am;
        // patchgate aborts it, so they would only mislead a report's reader.
        let text = output.combined_text();
        let message: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with("hint:"))
            .collect();
        let failure = self.read_failure(&message.join("\n"))?;
        self.abort_am(&base)?;
        Ok(AmOutcome::Failed(failure))
    }

    /// Collects what git left about the patch it stopped at.
    fn read_failure(&self, message: &str) -> Result<AmFailure> {
        let state = self
            .git()
            .args([
                "rev-parse",
                "--path-format=absolute",
                "--git-path",
                "rebase-apply",
            ])
            .run_text()?;
        let state = PathBuf::from(state.trim());
        let read = |name: &str| std::fs::read_to_string(state.join(name)).ok();
        let number = |name: &str| read(name).and_then(|text| text.trim().parse::<usize>().ok());
        let index = number("next").unwrap_or(0);
        let total = number("last");
        // `final-commit` is the message git would commit; `msg` is what it
        // read from the mail. Either begins with the subject.
        let subject = read("final-commit")
            .or_else(|| read("msg"))
            .and_then(|text| text.lines().next().map(str::to_owned))
            .unwrap_or_default();
        let unmerged = self
            .git()
            .args(["diff", "--name-only", "-z", "--diff-filter=U"])
            .output()?;
        let mut files: Vec<String> = unmerged
            .stdout
            .split(|&b| b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect();
        for file in files_named_in(message) {
            if !files.contains(&file) {
                files.push(file);
            }
        }
        Ok(AmFailure {
            index,
            total,
            subject,
            files,
            message: message.to_owned(),
        })
    }

    /// Leaves the worktree as it was before `am`, even when git's own abort
    /// is not possible (it stopped before recording any state).
    fn abort_am(&self, base: &Oid) -> Result<()> {
        let _ = self.git().args(["am", "--abort"]).output()?;
        if self.head()? != *base {
            self.git()
                .args(["checkout", "--quiet", "--detach", "--force", base.as_str()])
                .run()?;
        }
        Ok(())
    }

    /// Removes the worktree and its directory now, reporting failure (drop
    /// does the same silently).
    pub fn remove(mut self) -> Result<()> {
        self.removed = true;
        remove_worktree(&self.mirror, &self.dir)
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        if !self.removed {
            // Nothing to report to from a destructor; a leftover directory
            // is cleared by `prune_stale_worktrees` on the next start.
            let _ = remove_worktree(&self.mirror, &self.dir);
        }
    }
}

/// Unregisters and deletes a worktree directory, falling back to deleting
/// the directory when git refuses (e.g. its entry is already gone).
fn remove_worktree(mirror: &Mirror, dir: &Path) -> Result<()> {
    let _lock = mirror.lock()?;
    remove_worktree_locked(mirror, dir)
}

/// [`remove_worktree`] for a caller that holds the mirror's lock already.
fn remove_worktree_locked(mirror: &Mirror, dir: &Path) -> Result<()> {
    let output = mirror
        .git()
        .args(["worktree", "remove", "--force", "--force"])
        .arg(dir)
        .output()?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io_error(dir))?;
    }
    if !output.status.success() {
        mirror.git().args(["worktree", "prune"]).run()?;
    }
    Ok(())
}

/// The git directory a worktree's `.git` file points to, if it has one.
fn gitdir_of(dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join(".git")).ok()?;
    let path = text.strip_prefix("gitdir:")?.trim();
    Some(PathBuf::from(path))
}

/// Whether `dir` is a worktree of the repository at `repo`.
fn belongs_to(dir: &Path, repo: &Path) -> bool {
    gitdir_of(dir).is_some_and(|gitdir| gitdir.starts_with(repo.join("worktrees")))
}

/// Whether `dir` is a worktree whose repository entry no longer exists.
fn orphaned(dir: &Path) -> bool {
    gitdir_of(dir).is_some_and(|gitdir| !gitdir.exists())
}

/// File names in git's apply and merge messages, for patches that fail
/// without leaving unmerged index entries (no three-way fallback possible).
fn files_named_in(message: &str) -> Vec<String> {
    let mut files = Vec::new();
    for line in message.lines() {
        let line = line.trim();
        let name = if let Some(rest) = line.strip_prefix("error: patch failed: ") {
            rest.rsplit_once(':').map(|(file, _line)| file)
        } else if let Some(rest) = line.strip_prefix("CONFLICT (") {
            rest.split_once("Merge conflict in ").map(|(_, file)| file)
        } else if let Some(rest) = line.strip_prefix("error: ") {
            rest.strip_suffix(": does not exist in index")
                .or_else(|| rest.strip_suffix(": already exists in index"))
                .or_else(|| rest.strip_suffix(": already exists in working directory"))
                .or_else(|| rest.strip_suffix(": patch does not apply"))
        } else {
            None
        };
        if let Some(name) = name.map(str::trim).filter(|name| !name.is_empty()) {
            if !files.iter().any(|known| known == name) {
                files.push(name.to_owned());
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::files_named_in;

    #[test]
    fn names_files_from_apply_and_merge_messages() {
        let message = "Applying: calc: fix\n\
            error: patch failed: src/calc.c:12\n\
            error: src/calc.c: patch does not apply\n\
            CONFLICT (content): Merge conflict in src/calc.h\n\
            error: tests/new.c: already exists in index\n";
        assert_eq!(
            files_named_in(message),
            ["src/calc.c", "src/calc.h", "tests/new.c"]
        );
    }
}
