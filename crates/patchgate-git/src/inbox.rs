//! Reading public-inbox v2 archives, the layout lore.kernel.org serves.
//!
//! An archive is a directory holding `git/0.git`, `git/1.git`, … ("epochs"),
//! bare repositories whose history adds one message per commit as a blob
//! named `m`; a commit that deletes a message removes `m`. Epochs are read in
//! order and commits oldest first, and a [`InboxCursor`] (the last commit
//! read in each epoch) lets the next run read only what is new.
//!
//! Lists hold millions of messages, so each epoch is read with one
//! `git rev-list` and one streaming `git cat-file --batch` process, never a
//! process per message.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

use crate::command::GitEnv;
use crate::error::{io_error, GitError, Result};
use crate::mirror::absolute;
use crate::oid::Oid;

/// A public-inbox v2 archive on disk.
#[derive(Debug, Clone)]
pub struct PublicInbox {
    dir: PathBuf,
    /// Epoch numbers and their repositories, in ascending order.
    epochs: Vec<(u32, PathBuf)>,
    env: GitEnv,
    /// See [`PublicInbox::limit`].
    limit: Option<(usize, usize)>,
}

/// Where reading stopped: the last commit read in each epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxCursor {
    pub epochs: BTreeMap<u32, Oid>,
}

/// One message of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxMessage {
    pub epoch: u32,
    /// The commit that added the message.
    pub commit: Oid,
    /// The message exactly as archived, or only its first bytes when it
    /// is over the limit set with [`PublicInbox::limit`].
    pub raw: Vec<u8>,
    /// The message's whole size in bytes, when `raw` holds only its head.
    pub cut: Option<u64>,
}

impl PublicInbox {
    /// Opens the archive at `dir` (the directory holding `git/`). Epochs are
    /// listed now; reopen to see epochs added later.
    pub fn open(dir: impl AsRef<Path>) -> Result<PublicInbox> {
        PublicInbox::open_with(dir, GitEnv::isolated())
    }

    /// Like [`PublicInbox::open`], with git in the given environment.
    pub fn open_with(dir: impl AsRef<Path>, env: GitEnv) -> Result<PublicInbox> {
        let dir = absolute(dir.as_ref())?;
        let git_dir = dir.join("git");
        let entries = match std::fs::read_dir(&git_dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(GitError::NotAnInbox { path: dir });
            }
            Err(error) => return Err(io_error(&git_dir)(error)),
        };
        let mut epochs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_error(&git_dir))?;
            let name = entry.file_name();
            let number = name
                .to_str()
                .and_then(|name| name.strip_suffix(".git"))
                .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|digits| digits.parse::<u32>().ok());
            if let Some(number) = number {
                epochs.push((number, entry.path()));
            }
        }
        if epochs.is_empty() {
            return Err(GitError::NotAnInbox { path: dir });
        }
        epochs.sort();
        for (_, repo) in &epochs {
            check_epoch(repo, &env)?;
        }
        Ok(PublicInbox {
            dir,
            epochs,
            env,
            limit: None,
        })
    }

    /// Read no message over `limit` bytes whole: of such a message only its
    /// first `head` bytes are read (and its size told in
    /// [`InboxMessage::cut`]), so a huge blob in a hostile archive costs no
    /// memory.
    pub fn limit(mut self, limit: usize, head: usize) -> Self {
        self.limit = Some((limit, head.min(limit)));
        self
    }

    /// The archive's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The epoch numbers, ascending.
    pub fn epochs(&self) -> Vec<u32> {
        self.epochs.iter().map(|(number, _)| *number).collect()
    }

    /// The messages added after `cursor`, oldest first; commits that delete
    /// a message are passed over. Read [`InboxMessages::cursor`] after
    /// iterating to store where to continue.
    pub fn messages_since(&self, cursor: &InboxCursor) -> InboxMessages<'_> {
        InboxMessages {
            inbox: self,
            cursor: cursor.clone(),
            next_epoch: 0,
            current: None,
            failed: false,
        }
    }
}

/// Fail unless `repo` is itself a git repository. git run in a folder that
/// is none looks for one around it, so an epoch that was never cloned, or
/// is an empty folder, would otherwise read as an epoch without messages,
/// or as the history of whatever repository holds the archive.
fn check_epoch(repo: &Path, env: &GitEnv) -> Result<()> {
    let out = env
        .command(repo)
        .args(["rev-parse", "--absolute-git-dir"])
        .output()?;
    let found = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // A bare epoch is its own git directory; one cloned with a work tree
    // has it in `.git`.
    let same = |found: &str| match (Path::new(found).canonicalize(), repo.canonicalize()) {
        (Ok(a), Ok(b)) => a == b || a == b.join(".git"),
        _ => false,
    };
    if out.status.success() && same(&found) {
        return Ok(());
    }
    let detail = if out.status.success() {
        format!("git finds the repository {found} around it instead")
    } else {
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    };
    Err(GitError::NotAnEpoch {
        path: repo.to_path_buf(),
        detail,
    })
}

/// Iterator over new messages; see [`PublicInbox::messages_since`].
#[derive(Debug)]
pub struct InboxMessages<'a> {
    inbox: &'a PublicInbox,
    cursor: InboxCursor,
    /// Index into `inbox.epochs` of the next epoch to open.
    next_epoch: usize,
    current: Option<EpochReader>,
    failed: bool,
}

impl InboxMessages<'_> {
    /// The position after everything returned so far (and after deletions
    /// passed over).
    pub fn cursor(&self) -> &InboxCursor {
        &self.cursor
    }

    fn open_epoch(&self, index: usize) -> Result<EpochReader> {
        let (number, repo) = &self.inbox.epochs[index];
        let env = &self.inbox.env;
        let head = env
            .command(repo)
            .args(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
            .output()?;
        if !head.status.success() {
            // An epoch with no commit yet (just created) has nothing to read.
            return Ok(EpochReader::empty(*number, repo));
        }
        // Each commit with its tree: asking cat-file for `TREE:m` spares it
        // parsing every commit a second time (a third of its work).
        let mut rev_list = env
            .command(repo)
            .args(["rev-list", "--reverse", "--format=%T", "HEAD"]);
        if let Some(last) = self.cursor.epochs.get(number) {
            let known = env
                .command(repo)
                .args(["cat-file", "-e", &format!("{last}^{{commit}}")])
                .output()?;
            // A cursor commit that is gone means the epoch was rewritten;
            // reading it again is safe because ingest is idempotent.
            if known.status.success() {
                rev_list = rev_list.args(["--not", last.as_str()]);
            }
        }
        let args = rev_list.args_text();
        let text = rev_list.run_text()?;
        let unexpected = |line: &str| GitError::Unexpected {
            repo: repo.clone(),
            args: args.clone(),
            detail: format!("{line:?}"),
        };
        let mut commits = VecDeque::new();
        let mut trees = Vec::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let commit = line
                .strip_prefix("commit ")
                .and_then(|id| Oid::parse(id).ok())
                .ok_or_else(|| unexpected(line))?;
            let tree_line = lines.next().unwrap_or_default();
            let tree = Oid::parse(tree_line).map_err(|_| unexpected(tree_line))?;
            commits.push_back(commit);
            trees.push(tree);
        }
        EpochReader::start(*number, repo, env, commits, trees)
    }
}

impl Iterator for InboxMessages<'_> {
    type Item = Result<InboxMessage>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            if self.current.is_none() {
                if self.next_epoch >= self.inbox.epochs.len() {
                    return None;
                }
                let index = self.next_epoch;
                self.next_epoch += 1;
                match self.open_epoch(index) {
                    Ok(reader) => self.current = Some(reader),
                    Err(error) => {
                        self.failed = true;
                        return Some(Err(error));
                    }
                }
            }
            let reader = self.current.as_mut()?;
            match reader.next_entry(self.inbox.limit) {
                Ok(Some((commit, raw))) => {
                    let epoch = reader.epoch;
                    self.cursor.epochs.insert(epoch, commit.clone());
                    if let Some((raw, cut)) = raw {
                        return Some(Ok(InboxMessage {
                            epoch,
                            commit,
                            raw,
                            cut,
                        }));
                    }
                }
                Ok(None) => self.current = None,
                Err(error) => {
                    self.failed = true;
                    self.current = None;
                    return Some(Err(error));
                }
            }
        }
    }
}

/// A message read from an epoch: its bytes, and its whole size when only
/// its head was read; `None` for a commit that adds none.
type Entry = Option<(Vec<u8>, Option<u64>)>;

/// One epoch being streamed through `git cat-file --batch`.
#[derive(Debug)]
struct EpochReader {
    epoch: u32,
    repo: PathBuf,
    commits: VecDeque<Oid>,
    process: Option<BatchProcess>,
}

#[derive(Debug)]
struct BatchProcess {
    child: Child,
    stdout: BufReader<ChildStdout>,
    writer: Option<JoinHandle<()>>,
    args: String,
}

impl EpochReader {
    fn empty(epoch: u32, repo: &Path) -> EpochReader {
        EpochReader {
            epoch,
            repo: repo.to_path_buf(),
            commits: VecDeque::new(),
            process: None,
        }
    }

    /// Starts `cat-file` on the `m` of each tree, `trees[i]` being the tree
    /// of `commits[i]`.
    fn start(
        epoch: u32,
        repo: &Path,
        env: &GitEnv,
        commits: VecDeque<Oid>,
        trees: Vec<Oid>,
    ) -> Result<EpochReader> {
        if commits.is_empty() {
            return Ok(EpochReader::empty(epoch, repo));
        }
        let (mut child, args) = env
            .command(repo)
            .args(["cat-file", "--batch", "--buffer"])
            .spawn_piped()?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(GitError::Unexpected {
                repo: repo.to_path_buf(),
                args,
                detail: "no pipe to the process".into(),
            });
        };
        // All requests are written up front from a thread, so git can
        // answer at full speed while this side reads.
        let writer = std::thread::spawn(move || {
            let mut input = std::io::BufWriter::with_capacity(1 << 16, &mut stdin);
            for tree in &trees {
                if writeln!(input, "{tree}:m").is_err() {
                    // git exited or the reader was dropped; the reader
                    // reports what went wrong.
                    return;
                }
            }
            let _ = input.flush();
        });
        Ok(EpochReader {
            epoch,
            repo: repo.to_path_buf(),
            commits,
            process: Some(BatchProcess {
                child,
                stdout: BufReader::with_capacity(1 << 20, stdout),
                writer: Some(writer),
                args,
            }),
        })
    }

    /// The next commit and its message (`None` for a deletion), or `None`
    /// at the end of the epoch. Past `limit` (bytes, head kept), a message
    /// comes as its head and its whole size.
    fn next_entry(&mut self, limit: Option<(usize, usize)>) -> Result<Option<(Oid, Entry)>> {
        let Some(commit) = self.commits.pop_front() else {
            return Ok(None);
        };
        let Some(process) = self.process.as_mut() else {
            return Ok(None);
        };
        let broken = |detail: String| GitError::Unexpected {
            repo: self.repo.clone(),
            args: process.args.clone(),
            detail,
        };
        let mut header = Vec::new();
        process
            .stdout
            .read_until(b'\n', &mut header)
            .map_err(io_error(&self.repo))?;
        let header = String::from_utf8_lossy(&header).trim_end().to_owned();
        if header.is_empty() {
            return Err(broken(format!(
                "it stopped before answering for commit {commit}"
            )));
        }
        // "<oid> blob <size>" or "<name> missing" for a commit without `m`.
        if header.ends_with(" missing") {
            return Ok(Some((commit, None)));
        }
        let mut fields = header.split(' ');
        let (Some(_), Some(kind), Some(size), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(broken(format!(
                "unreadable reply {header:?} for commit {commit}"
            )));
        };
        let size: usize = size
            .parse()
            .map_err(|_| broken(format!("unreadable size in {header:?}")))?;
        // Every object is followed by a newline that is not part of it.
        let keep = match (kind == "blob", limit) {
            (false, _) => 0,
            (true, Some((limit, head))) if size > limit => head,
            _ => size,
        };
        let mut raw = vec![0; keep];
        process
            .stdout
            .read_exact(&mut raw)
            .map_err(io_error(&self.repo))?;
        let rest = (size - keep) as u64 + 1;
        let skipped = std::io::copy(&mut (&mut process.stdout).take(rest), &mut std::io::sink())
            .map_err(io_error(&self.repo))?;
        if skipped != rest {
            return Err(broken(format!(
                "it stopped inside the object for commit {commit}"
            )));
        }
        if kind != "blob" {
            // `m` is something other than a file: not a message archive
            // commit, passed over like a deletion.
            return Ok(Some((commit, None)));
        }
        let cut = (keep < size).then_some(size as u64);
        Ok(Some((commit, Some((raw, cut)))))
    }
}

impl Drop for EpochReader {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            // Stopped early or done: either way the process is ours to end,
            // and waiting for it leaves no zombie behind.
            let _ = process.child.kill();
            let _ = process.child.wait();
            if let Some(writer) = process.writer.take() {
                let _ = writer.join();
            }
        }
    }
}
