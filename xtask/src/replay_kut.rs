//! `cargo xtask replay-kut`: replay the 2022 kvmarm archive of
//! kvm-unit-tests patches against the real kvm-unit-tests tree and check
//! that every series upstream later merged is really applied.
//!
//! The set-up (in `target/replay/kut/`, made afresh each time and kept for
//! exploring with `patchgate --config target/replay/kut/patchgate.toml …`):
//! a bare clone of the tree's master with its full history (the bundle
//! `crates/patchgate/tests/data/kvm-unit-tests.bundle`), a configuration with
//! that tree as the default one (`tag = ""`, base `master`, one suite
//! running `true`), and the archive ingested. Every complete series is then
//! tested with `patchgate test ID --json`.
//!
//! Whether upstream merged a series is decided from upstream's own history,
//! not from patchgate: each patch of `patchgate series mbox ID` gets its
//! `git patch-id --stable`, which is looked up among the patch-ids of
//! master's commits since `--since`. A series is *merged upstream* when
//! every patch's patch-id is there. A patch whose patch-id is not there
//! (the maintainer edited it, or took a later revision) is looked up by its
//! exact subject, for the newest revision of a topic only (older revisions
//! share their subjects with the one that was merged); a series whose
//! every patch is found, some by subject only, is *merged in an edited
//! form*, and counted apart.
//!
//! A merged series is *really applied* when patchgate applied it, its head
//! is not its base, there is one commit per patch between them, and each
//! commit's patch-id is the patch-id of the upstream commit of that patch
//! (for a series merged in an edited form: of the posted patch, since
//! upstream's differs). It is a *no-op* when every patch changed nothing on
//! the base chosen (head == base), and *failed to apply* when `git am -3`
//! stopped on every base tried. The task exits 1 when a merged series is
//! anything but really applied, and lists those with patchgate's reasons.

use crate::measure;
use anyhow::{bail, ensure, Context};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The list archive to replay.
    #[arg(
        long,
        default_value = "/work/shared/data/kvmarm-kvm-unit-tests-2022.mbox"
    )]
    mbox: PathBuf,
    /// The kvm-unit-tests tree: a git bundle of master with its history
    /// (relative paths are taken from the workspace's root).
    #[arg(
        long,
        default_value = "crates/patchgate/tests/data/kvm-unit-tests.bundle"
    )]
    bundle: PathBuf,
    /// Upstream commits since this date are where merged patches are looked
    /// for (`git log --since`).
    #[arg(long, default_value = "2021-12-01")]
    since: String,
}

/// The tree's name in the configuration.
const TREE: &str = "kut";

pub fn run(args: Args) -> anyhow::Result<()> {
    let root = measure::workspace_root()?;
    let bundle = root.join(&args.bundle);
    ensure!(
        bundle.is_file(),
        "no bundle at {} (see crates/patchgate/tests/data/)",
        bundle.display()
    );
    let patchgate = measure::release_patchgate(&root)?;

    let dir = root.join("target/replay/kut");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let dir = dir.canonicalize()?;
    let upstream = dir.join("kvm-unit-tests.git");
    git(
        &dir,
        &[
            "clone".as_ref(),
            "--quiet".as_ref(),
            "--bare".as_ref(),
            bundle.as_os_str(),
            upstream.as_os_str(),
        ],
        None,
    )?;
    let config = dir.join("patchgate.toml");
    std::fs::write(
        &config,
        format!(
            "[tree.{TREE}]\nrepo = \"{}\"\ntag = \"\"\nbases = [\"master\"]\n\n[tree.{TREE}.suite.true]\nrun = \"true\"\n",
            upstream.display()
        ),
    )?;
    let pg = Patchgate {
        bin: patchgate,
        config,
    };
    let mbox = args
        .mbox
        .canonicalize()
        .with_context(|| format!("cannot read {}", args.mbox.display()))?;
    pg.ok(&["ingest".as_ref(), mbox.as_os_str()])?;

    let up = Upstream::read(&upstream, &args.since)?;
    let list: Value = serde_json::from_slice(&pg.ok(&["series", "list", "--json"])?)?;
    let list = list.as_array().context("series list --json is an array")?;
    let mirror = dir.join(format!(".patchgate/mirrors/{TREE}.git"));

    let mut rows = Vec::new();
    for s in list.iter().filter(|s| s["complete"] == true) {
        let id = s["id"].as_i64().context("series id")?;
        rows.push(series_row(&pg, &up, &mirror, s, id)?);
    }
    rows.sort_by_key(|r| r.id);

    println!(
        "archive {}\ntree {} (master {}, {} commits since {} searched)\nstate {}\n",
        mbox.display(),
        bundle.display(),
        short(&up.master),
        up.commit_pid.len(),
        args.since,
        dir.display()
    );
    print!("{}", table(&rows));

    let merged: Vec<&Row> = rows
        .iter()
        .filter(|r| r.merged() == Merged::AsPosted)
        .collect();
    let edited: Vec<&Row> = rows
        .iter()
        .filter(|r| r.merged() == Merged::Edited)
        .collect();
    let count = |rows: &[&Row], o: Outcome| rows.iter().filter(|r| r.outcome == o).count();
    let mut summary = format!(
        "{} complete series, {} merged upstream: {} really applied (head != base, one commit per patch, patch-ids equal), {} no-op, {} failed to apply",
        rows.len(),
        merged.len(),
        count(&merged, Outcome::Really),
        count(&merged, Outcome::NoOp),
        count(&merged, Outcome::Failed),
    );
    let differs = count(&merged, Outcome::Differs);
    if differs > 0 {
        let _ = write!(
            summary,
            ", {differs} applied but commits or patch-ids differ from upstream's"
        );
    }
    let _ = write!(
        summary,
        "\n{} more merged upstream in an edited form (a patch found by subject only): {} applied as posted (head != base, one commit per patch, patch-ids equal to the posted patches'), {} no-op, {} failed to apply",
        edited.len(),
        count(&edited, Outcome::Really),
        count(&edited, Outcome::NoOp),
        count(&edited, Outcome::Failed),
    );
    let differs = count(&edited, Outcome::Differs);
    if differs > 0 {
        let _ = write!(summary, ", {differs} applied but not as posted");
    }
    println!("\n{summary}");

    let wrong: Vec<&Row> = merged
        .iter()
        .chain(&edited)
        .filter(|r| r.outcome != Outcome::Really)
        .copied()
        .collect();
    if wrong.is_empty() {
        return Ok(());
    }
    println!("\nmerged upstream, not really applied:");
    for r in &wrong {
        println!(
            "  series {} v{} ({} patches) \"{}\": {}",
            r.id,
            r.version,
            r.patches.len(),
            r.subject,
            r.outcome.word()
        );
        println!("    base: {} ({})", short(&r.base), r.base_reason);
        if !r.note.is_empty() {
            println!("    why:  {}", r.note);
        }
        let found: Vec<String> = r
            .patches
            .iter()
            .filter_map(|p| p.upstream.as_ref())
            .map(|(c, how)| format!("{} (by {how})", short(c)))
            .collect();
        println!("    upstream: {}", found.join(", "));
    }
    eprintln!(
        "replay-kut: {} of {} series merged upstream are not really applied",
        wrong.len(),
        merged.len() + edited.len()
    );
    std::process::exit(1)
}

/// The built binary with the replay's configuration.
struct Patchgate {
    bin: PathBuf,
    config: PathBuf,
}

impl Patchgate {
    fn command<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--config").arg(&self.config).args(args);
        c.stdin(Stdio::null());
        c
    }

    /// Run it; its stdout, or an error with its stderr.
    fn ok<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> anyhow::Result<Vec<u8>> {
        let out = self.command(args).output()?;
        if !out.status.success() {
            bail!(
                "patchgate {} failed ({}): {}",
                show_args(args),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(out.stdout)
    }
}

fn show_args<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Upstream's master: the patch-id and subject of every commit since the
/// date.
struct Upstream {
    repo: PathBuf,
    master: String,
    /// patch-id → commit.
    by_pid: HashMap<String, String>,
    /// commit → patch-id.
    commit_pid: HashMap<String, String>,
    /// subject → commits (oldest first).
    by_subject: HashMap<String, Vec<String>>,
}

impl Upstream {
    fn read(repo: &Path, since: &str) -> anyhow::Result<Upstream> {
        let since = format!("--since={since}");
        let master = text(git(repo, &["rev-parse", "master"], None)?);
        let log = git(
            repo,
            &["log", "-p", "--no-merges", since.as_str(), "master"],
            None,
        )?;
        let mut by_pid = HashMap::new();
        let mut commit_pid = HashMap::new();
        for (pid, commit) in patch_ids(repo, &log)? {
            by_pid.entry(pid.clone()).or_insert_with(|| commit.clone());
            commit_pid.insert(commit, pid);
        }
        let subjects = text(git(
            repo,
            &[
                "log",
                "--reverse",
                "--no-merges",
                "--format=%H%x09%s",
                since.as_str(),
                "master",
            ],
            None,
        )?);
        let mut by_subject: HashMap<String, Vec<String>> = HashMap::new();
        for line in subjects.lines() {
            if let Some((c, s)) = line.split_once('\t') {
                by_subject
                    .entry(s.trim().to_string())
                    .or_default()
                    .push(c.to_string());
            }
        }
        Ok(Upstream {
            repo: repo.to_path_buf(),
            master,
            by_pid,
            commit_pid,
            by_subject,
        })
    }

    /// The upstream commit of a patch, and how it was found.
    fn find(&self, p: &Patch, by_subject: bool) -> Option<(String, &'static str)> {
        if let Some(c) = p.pid.as_ref().and_then(|pid| self.by_pid.get(pid)) {
            return Some((c.clone(), "patch-id"));
        }
        if by_subject {
            if let Some(c) = self.by_subject.get(&p.subject).and_then(|c| c.last()) {
                return Some((c.clone(), "subject"));
            }
        }
        None
    }
}

/// One patch of a series as `patchgate series mbox` renders it.
struct Patch {
    subject: String,
    pid: Option<String>,
    /// The upstream commit found for it, and how.
    upstream: Option<(String, &'static str)>,
}

/// One series, tested and compared with upstream.
struct Row {
    id: i64,
    version: i64,
    subject: String,
    patches: Vec<Patch>,
    applied: bool,
    base: String,
    base_reason: String,
    head: Option<String>,
    /// Commits between base and head, oldest first, with their patch-ids.
    commits: Vec<(String, Option<String>)>,
    already_applied: bool,
    /// apply_error, or the already-applied explanation, or a test error.
    note: String,
    /// Commits whose patch-id is the upstream one of the same patch.
    pids_up: usize,
    /// Commits whose patch-id is the posted patch's.
    pids_post: usize,
    outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Really,
    NoOp,
    Failed,
    Differs,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Really => "really applied",
            Outcome::NoOp => "no-op (head == base: nothing applied)",
            Outcome::Failed => "failed to apply",
            Outcome::Differs => "applied, but commits or patch-ids differ from upstream's",
        }
    }
}

/// Whether upstream's master has a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Merged {
    /// Every patch's patch-id is a commit's on master.
    AsPosted,
    /// Every patch is on master, some found by subject only: upstream
    /// took an edited or later revision.
    Edited,
    /// Some patches only.
    Part(usize),
    No,
}

impl Row {
    fn merged(&self) -> Merged {
        let by = |how: &str| {
            self.patches
                .iter()
                .filter(|p| p.upstream.as_ref().is_some_and(|(_, h)| *h == how))
                .count()
        };
        let (pid, subject) = (by("patch-id"), by("subject"));
        let n = self.patches.len();
        if n > 0 && pid == n {
            Merged::AsPosted
        } else if n > 0 && pid + subject == n {
            Merged::Edited
        } else if pid + subject > 0 {
            Merged::Part(pid + subject)
        } else {
            Merged::No
        }
    }

    fn head_is_base(&self) -> bool {
        self.head.as_deref().is_none_or(|h| h == self.base)
    }

    /// Commits whose patch-id is that of the upstream commit of the same
    /// patch.
    fn pids_equal_upstream(&self, up: &Upstream) -> usize {
        self.commits
            .iter()
            .zip(&self.patches)
            .filter(|((_, pid), p)| {
                let want = p.upstream.as_ref().and_then(|(c, _)| up.commit_pid.get(c));
                pid.is_some() && pid.as_ref() == want
            })
            .count()
    }

    /// Commits whose patch-id is the posted patch's.
    fn pids_equal_posted(&self) -> usize {
        self.commits
            .iter()
            .zip(&self.patches)
            .filter(|((_, pid), p)| pid.is_some() && *pid == p.pid)
            .count()
    }

    /// Against upstream's patch-ids when upstream has the posted patches,
    /// else (merged edited) against the posted ones.
    fn outcome_with(&self) -> Outcome {
        let n = self.patches.len();
        let equal = if self.merged() == Merged::Edited {
            self.pids_post
        } else {
            self.pids_up
        };
        // `already_applied` beside a head says the branch's head has the
        // series too; without one, nothing was applied.
        if (self.already_applied && self.head.is_none()) || (self.applied && self.head_is_base()) {
            Outcome::NoOp
        } else if !self.applied {
            Outcome::Failed
        } else if self.commits.len() == n && equal == n {
            Outcome::Really
        } else {
            Outcome::Differs
        }
    }
}

fn series_row(
    pg: &Patchgate,
    up: &Upstream,
    mirror: &Path,
    s: &Value,
    id: i64,
) -> anyhow::Result<Row> {
    let ids = id.to_string();
    let newest = s["superseded_by"].is_null();
    let mbox = pg.ok(&["series", "mbox", ids.as_str()])?;
    let mut patches = Vec::new();
    for mail in split_mbox(&mbox) {
        let pid = patch_ids(&up.repo, &mail)?
            .into_iter()
            .next()
            .map(|(pid, _)| pid);
        let mut p = Patch {
            subject: subject(&mail),
            pid,
            upstream: None,
        };
        p.upstream = up.find(&p, newest);
        patches.push(p);
    }

    let out = pg.command(&["test", ids.as_str(), "--json"]).output()?;
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let mut row = Row {
        id,
        version: s["version"].as_i64().unwrap_or(1),
        subject: s["subject"].as_str().unwrap_or("").to_string(),
        patches,
        applied: report["applied"] == true,
        base: report["base"].as_str().unwrap_or("").to_string(),
        base_reason: report["base_reason"].as_str().unwrap_or("").to_string(),
        head: report["head"].as_str().map(str::to_string),
        commits: Vec::new(),
        already_applied: report["already_applied"].is_object(),
        note: String::new(),
        pids_up: 0,
        pids_post: 0,
        outcome: Outcome::Failed,
    };
    if report.is_null() {
        row.note = format!(
            "patchgate test failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    } else if let Some(e) = report["apply_error"].as_str() {
        row.note = e.to_string();
    } else if let Some(f) = report["apply_failure"].as_object() {
        row.note = format!(
            "patch {} {}: {}",
            f.get("patch").unwrap_or(&Value::Null),
            f.get("files").unwrap_or(&Value::Null),
            f.get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
        );
    }
    if row.already_applied {
        let landed: Vec<String> = report["already_applied"]["landed"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| l["commit"].as_str().map_or("?".into(), short))
            .collect();
        let what = if row.head.is_some() {
            format!(
                "applied; also already on {} as {}",
                report["already_applied"]["branch"]
                    .as_str()
                    .unwrap_or("the branch"),
                landed.join(", ")
            )
        } else {
            format!("already applied: landed as {}", landed.join(", "))
        };
        row.note = if row.note.is_empty() {
            what
        } else {
            format!("{what}; {}", row.note)
        };
    }
    if let (true, Some(head)) = (row.applied, row.head.clone()) {
        if head != row.base {
            let range = format!("{}..{head}", row.base);
            let list = text(git(
                mirror,
                &["rev-list", "--reverse", range.as_str()],
                None,
            )?);
            let log = git(mirror, &["log", "-p", range.as_str()], None)?;
            let pids: HashMap<String, String> = patch_ids(mirror, &log)?
                .into_iter()
                .map(|(pid, c)| (c, pid))
                .collect();
            row.commits = list
                .lines()
                .map(|c| (c.to_string(), pids.get(c).cloned()))
                .collect();
        }
    }
    row.pids_up = row.pids_equal_upstream(up);
    row.pids_post = row.pids_equal_posted();
    row.outcome = row.outcome_with();
    Ok(row)
}

fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<3} {:<4} {:<7} {:<8} {:<7} {:<9} {:<7} {:<6} {:<8} {:<12} {:<74} NOTE",
        "ID",
        "VER",
        "PATCHES",
        "UPSTREAM",
        "APPLIED",
        "HEAD=BASE",
        "COMMITS",
        "PID=UP",
        "PID=POST",
        "BASE",
        "BASE_REASON"
    );
    for r in rows {
        let n = r.patches.len();
        let upstream = match r.merged() {
            Merged::AsPosted => "y".to_string(),
            Merged::Edited => "edited".to_string(),
            Merged::Part(k) => format!("{k}/{n}"),
            Merged::No => "n".to_string(),
        };
        let ratio = |k: usize| {
            if r.commits.is_empty() {
                "-".to_string()
            } else if k == n && r.commits.len() == n {
                "y".to_string()
            } else {
                format!("{k}/{n}")
            }
        };
        let _ = writeln!(
            out,
            "{:<3} {:<4} {:<7} {:<8} {:<7} {:<9} {:<7} {:<6} {:<8} {:<12} {:<74} {}",
            r.id,
            format!("v{}", r.version),
            n,
            upstream,
            if r.applied { "y" } else { "n" },
            if r.head_is_base() { "y" } else { "n" },
            r.commits.len(),
            ratio(r.pids_up),
            ratio(r.pids_post),
            short(&r.base),
            cut(&r.base_reason, 74),
            cut(&r.note, 90),
        );
    }
    out
}

/// The first `n` characters, with an ellipsis when cut.
fn cut(s: &str, n: usize) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() <= n {
        s
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

fn short(c: &str) -> String {
    c.chars().take(12).collect()
}

/// The messages of an mboxrd file, each without its `From ` line and with
/// `>From ` unescaped.
fn split_mbox(data: &[u8]) -> Vec<Vec<u8>> {
    let mut mails: Vec<Vec<u8>> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            mails.push(Vec::new());
            continue;
        }
        let Some(mail) = mails.last_mut() else {
            continue;
        };
        let quoted = line.iter().take_while(|&&b| b == b'>').count();
        if quoted > 0 && line[quoted..].starts_with(b"From ") {
            mail.extend_from_slice(&line[1..]);
        } else {
            mail.extend_from_slice(line);
        }
    }
    mails
}

/// A mail's subject, unfolded, without its `[...]` prefixes.
fn subject(mail: &[u8]) -> String {
    let text = String::from_utf8_lossy(mail);
    let mut subject: Option<String> = None;
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        match &mut subject {
            Some(s) if line.starts_with([' ', '\t']) => {
                s.push(' ');
                s.push_str(line.trim());
            }
            Some(_) => break,
            None => {
                if let Some(rest) = line.strip_prefix("Subject:") {
                    subject = Some(rest.trim().to_string());
                }
            }
        }
    }
    let mut s = subject.unwrap_or_default();
    while s.starts_with('[') {
        match s.find(']') {
            Some(end) => s = s[end + 1..].trim_start().to_string(),
            None => break,
        }
    }
    s.trim().to_string()
}

/// `git patch-id --stable` of a diff or a log: (patch-id, commit) pairs in
/// input order.
fn patch_ids(repo: &Path, input: &[u8]) -> anyhow::Result<Vec<(String, String)>> {
    let out = text(git(repo, &["patch-id", "--stable"], Some(input))?);
    Ok(out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect())
}

/// git with no user or system configuration; its stdout.
fn git<S: AsRef<std::ffi::OsStr>>(
    cwd: &Path,
    args: &[S],
    stdin: Option<&[u8]>,
) -> anyhow::Result<Vec<u8>> {
    let mut c = Command::new("git");
    c.current_dir(cwd)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .with_context(|| format!("cannot start git {}", show_args(args)))?;
    let writer = match (stdin, child.stdin.take()) {
        (Some(bytes), Some(mut pipe)) => {
            let bytes = bytes.to_vec();
            Some(std::thread::spawn(move || pipe.write_all(&bytes)))
        }
        _ => None,
    };
    let out = child.wait_with_output()?;
    if let Some(w) = writer {
        w.join()
            .map_err(|_| anyhow::anyhow!("writing to git panicked"))??;
    }
    if !out.status.success() {
        bail!(
            "git {} in {} failed: {}",
            show_args(args),
            cwd.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim().to_string()
}
