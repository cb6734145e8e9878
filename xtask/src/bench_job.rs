//! `cargo xtask bench-job`: what one test job costs beyond its suites' own
//! time, side by side with `git am` of the same series and the sandbox's
//! start-up.
//!
//! The set-up (in `target/bench/job/`, made afresh each time, with fixed
//! dates so it is the same on every run): a small tree of C-like files, a
//! bare clone of it as upstream, and a 10-patch series on a branch written
//! as an mbox by `git format-patch --cover-letter`, ingested once. The
//! tree's suites run `true`, so their own time is next to nothing and what
//! a job takes is overhead: process start, configuration, SQLite, mirror
//! fetch, worktrees, `git am`, two sandbox starts per suite (base and
//! series), parsing and the store's writes.
//!
//! Runs are keyed by (commit, suite fingerprint) and the fingerprint covers
//! the suite's environment, so each job gets a new `BENCH_RUN` value in the
//! configuration: every job makes its base and series runs for real. The
//! fingerprint does not cover the suite's name (two suites alike share
//! their runs), so the value differs between suites too. The runs'
//! recorded durations are read back from the store.
//!
//! Every tool is pinned to one core (`taskset -c 0`, and this process too
//! for the in-process sandbox starts), and the measurements are interleaved
//! round by round, so the ratios hold on a noisy machine even when the
//! absolute times wander. Figures are medians (and 90th percentiles) over
//! `--runs` rounds.

use crate::measure;
use anyhow::{bail, ensure, Context};
use patchgate_core::config::{Config, Database};
use patchgate_store::Store;
use patchgate_store_sqlite::SqliteStore;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rounds; each makes one job per configuration, one `git am` cycle and
    /// `--starts` sandbox starts. Medians are reported.
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// Sandbox starts (confined and bare each) per round.
    #[arg(long, default_value_t = 10)]
    starts: usize,
    /// Skip the timeline of one more job traced with strace.
    #[arg(long)]
    no_timeline: bool,
}

/// Files in the tree, and lines in each.
const FILES: usize = 40;
const LINES: usize = 200;
/// Patches in the series; each edits a different file.
const PATCHES: usize = 10;
/// The tree's first commit; the series is posted an hour later.
const EPOCH: i64 = 1_700_000_000;

/// Samples of one figure, in milliseconds.
#[derive(Default)]
struct Samples(Vec<f64>);

impl Samples {
    fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1e3);
    }
    fn push_ms(&mut self, ms: f64) {
        self.0.push(ms);
    }
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.0.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        v
    }
    fn median(&self) -> f64 {
        let v = self.sorted();
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    }
    /// Nearest rank.
    fn p90(&self) -> f64 {
        let v = self.sorted();
        let rank = (v.len() * 9).div_ceil(10).max(1);
        v.get(rank - 1).copied().unwrap_or(0.0)
    }
}

/// One configuration's jobs.
#[derive(Default)]
struct Jobs {
    suites: usize,
    total: Samples,
    cpu: Samples,
    rss_mb: Samples,
    /// The suites' runs as the store recorded them (sandbox start included).
    recorded: Samples,
    /// The suites' own time: each run's command as a bare `sh -c true`.
    own: Samples,
    overhead: Samples,
    beyond_recorded: Samples,
}

#[derive(Default)]
struct Am {
    /// `git fetch` into patchgate's own mirror, nothing new: what each job
    /// does first.
    fetch: Samples,
    add: Samples,
    am: Samples,
    per_patch: Samples,
    remove: Samples,
    cycle: Samples,
}

#[derive(Default)]
struct Starts {
    confined: Samples,
    /// `Outcome::duration` of the confined runs: what a run records.
    confined_recorded: Samples,
    bare: Samples,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    ensure!(
        args.runs > 0 && args.starts > 0,
        "--runs and --starts must be at least 1"
    );
    let root = measure::workspace_root()?;
    let patchgate = measure::release_patchgate(&root)?;

    let dir = root.join("target/bench/job");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let dir = dir.canonicalize()?;
    let setup = set_up(&dir, &patchgate)?;
    println!(
        "tree: {FILES} files x {LINES} lines, series of {PATCHES} patches + cover letter, {}",
        dir.display()
    );

    // From here on this process and all it starts stay on core 0.
    pin_self()?;
    let sandbox = patchgate_sandbox::Sandbox::new(patchgate_sandbox::Config::default())
        .context("cannot set up the sandbox (run scripts/setup to install bubblewrap)")?;
    println!("sandbox: {}", sandbox.capabilities().summary());

    let mut variants = [
        Jobs {
            suites: 1,
            ..Jobs::default()
        },
        Jobs {
            suites: 2,
            ..Jobs::default()
        },
    ];
    // The first job clones the mirror; later ones only fetch. It is shown
    // on its own and not counted.
    let first = job(&setup, &patchgate, 1, "first")?;
    for v in &variants {
        job(&setup, &patchgate, v.suites, "warm")?;
    }

    let mut am = Am::default();
    let mut starts = Starts::default();
    let spec = patchgate_sandbox::Spec::new("true", &setup.sandbox_dir);
    for round in 0..args.runs {
        for v in &mut variants {
            let tag = format!("{}-{round}", v.suites);
            let j = job(&setup, &patchgate, v.suites, &tag)?;
            // Each run's command on its own, unconfined.
            let mut own = Duration::ZERO;
            for _ in 0..j.sandbox_runs {
                own += bare_true()?;
            }
            let total = j.cost.wall.as_secs_f64() * 1e3;
            let own_ms = own.as_secs_f64() * 1e3;
            v.total.push(j.cost.wall);
            v.cpu.push(j.cost.cpu);
            v.rss_mb.push_ms(j.cost.peak_rss as f64 / 1e6);
            v.recorded.push_ms(j.recorded_ms as f64);
            v.own.push_ms(own_ms);
            v.overhead.push_ms(total - own_ms);
            v.beyond_recorded.push_ms(total - j.recorded_ms as f64);
        }

        let c = am_cycle(&setup)?;
        am.fetch.push(c.fetch);
        am.add.push(c.add);
        am.am.push(c.am);
        am.per_patch.push(c.am / PATCHES as u32);
        am.remove.push(c.remove);
        am.cycle.push(c.add + c.am + c.remove);

        for _ in 0..args.starts {
            let t = Instant::now();
            let outcome = sandbox.run(&spec)?;
            starts.confined.push(t.elapsed());
            ensure!(
                outcome.status.success(),
                "`true` in the sandbox ended with {:?}: {}",
                outcome.status,
                String::from_utf8_lossy(&outcome.output)
            );
            starts.confined_recorded.push(outcome.duration);
            starts.bare.push(bare_true()?);
        }
    }

    print!(
        "{}",
        table(&args, &variants, &first, &am, &starts, &setup.am_mbox)
    );
    if !args.no_timeline {
        match timeline(&setup, &patchgate) {
            Ok(t) => print!("{t}"),
            Err(e) => println!("\nno timeline: {e:#}"),
        }
    }
    Ok(())
}

/// What [`set_up`] made.
struct Setup {
    dir: PathBuf,
    upstream: PathBuf,
    config: PathBuf,
    /// The series as patchgate hands it to `git am` (`patchgate series mbox`).
    am_mbox: PathBuf,
    /// A bare clone of upstream for the `git am` comparison.
    am_repo: PathBuf,
    /// The mirror patchgate clones on its first job.
    mirror: PathBuf,
    sandbox_dir: PathBuf,
    home: PathBuf,
}

fn set_up(dir: &Path, patchgate: &Path) -> anyhow::Result<Setup> {
    let home = dir.join("home");
    std::fs::create_dir_all(&home)?;
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("lib"))?;
    let git = |cwd: &Path, at: i64, args: &[&str]| -> anyhow::Result<Vec<u8>> {
        let out = git_command(&home, cwd)
            .env("GIT_AUTHOR_DATE", format!("@{at} +0000"))
            .env("GIT_COMMITTER_DATE", format!("@{at} +0000"))
            .args(args)
            .stderr(Stdio::inherit())
            .output()?;
        if !out.status.success() {
            bail!("git {} failed in {}", args.join(" "), cwd.display());
        }
        Ok(out.stdout)
    };

    git(&src, EPOCH, &["init", "--quiet", "--initial-branch=master"])?;
    for f in 0..FILES {
        std::fs::write(src.join(file_name(f)), c_file(f))?;
    }
    git(&src, EPOCH, &["add", "."])?;
    git(
        &src,
        EPOCH,
        &["commit", "--quiet", "-m", "lib: the initial tree"],
    )?;
    let upstream = dir.join("upstream.git");
    git(
        dir,
        EPOCH,
        &["clone", "--quiet", "--bare", "src", "upstream.git"],
    )?;

    git(&src, EPOCH, &["checkout", "--quiet", "-b", "topic"])?;
    for p in 0..PATCHES {
        let at = EPOCH + 3600 + 60 * p as i64;
        // Patch p edits file 4p, so each patch has a file of its own.
        let f = 4 * p;
        let path = src.join(file_name(f));
        let text = std::fs::read_to_string(&path)?;
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[LINES / 2] = format!("\treturn x * {} + {f}; /* tuned */", p + 7);
        lines.push(format!("/* limit raised by patch {} */", p + 1));
        std::fs::write(&path, lines.join("\n") + "\n")?;
        let message = format!(
            "lib/f{f:02}: tune the scale of step {}\n\nThe old factor overflowed on large inputs.\n\nSigned-off-by: A Submitter <submitter@example.org>",
            p + 1
        );
        git(&src, at, &["commit", "--quiet", "-a", "-m", &message])?;
    }
    let series_at = EPOCH + 3600 + 60 * PATCHES as i64;
    let mbox = git(
        &src,
        series_at,
        &[
            "format-patch",
            "--cover-letter",
            "--thread=shallow",
            "--stdout",
            "master..topic",
        ],
    )?;
    // format-patch stamps its Message-IDs with the current time; a fixed
    // stamp keeps the mbox the same on every run.
    let mbox = String::from_utf8(mbox)?;
    let stamp = mbox
        .split_once("Message-ID: <cover.")
        .and_then(|(_, rest)| rest.split_once(".git."))
        .map(|(stamp, _)| format!(".{stamp}.git."))
        .context("no cover letter Message-ID in format-patch's output")?;
    let mbox = mbox.replace(&stamp, &format!(".{series_at}.git."));
    let series = dir.join("series.mbox");
    std::fs::write(&series, mbox)?;

    let state = dir.join("state");
    std::fs::create_dir_all(&state)?;
    let config = state.join("patchgate.toml");
    std::fs::write(&config, config_text(&upstream, 1, "setup"))?;
    let mut c = Command::new(patchgate);
    c.arg("--config").arg(&config).arg("ingest").arg(&series);
    c.stdout(Stdio::null());
    measure::run(&mut c)?;
    let list = Command::new(patchgate)
        .arg("--config")
        .arg(&config)
        .args(["series", "list", "--json"])
        .output()?;
    let list: serde_json::Value = serde_json::from_slice(&list.stdout)?;
    ensure!(
        list[0]["id"] == 1
            && list[0]["total"] == PATCHES
            && list[0]["complete"] == true
            && list.as_array().map(Vec::len) == Some(1),
        "the mbox should make one complete series 1 of {PATCHES} patches: {list}"
    );
    let am_mbox = dir.join("am.mbox");
    let mut c = Command::new(patchgate);
    c.arg("--config")
        .arg(&config)
        .args(["series", "mbox", "1", "--output"])
        .arg(&am_mbox)
        .stderr(Stdio::null());
    measure::run(&mut c)?;

    let am_repo = dir.join("am.git");
    git(
        dir,
        EPOCH,
        &["clone", "--quiet", "--bare", "upstream.git", "am.git"],
    )?;
    let sandbox_dir = dir.join("sandbox");
    std::fs::create_dir_all(&sandbox_dir)?;
    Ok(Setup {
        dir: dir.to_path_buf(),
        upstream,
        config,
        am_mbox,
        am_repo,
        mirror: state.join(".patchgate/mirrors/t.git"),
        sandbox_dir,
        home,
    })
}

fn file_name(f: usize) -> String {
    format!("lib/f{f:02}.c")
}

/// Deterministic C-like text: a header comment, then small functions.
fn c_file(f: usize) -> String {
    let mut s = format!("/* lib/f{f:02}.c: step {f} of the pipeline */\n");
    s.push_str("#include \"lib.h\"\n");
    for l in 2..LINES {
        let line = match l % 4 {
            0 => format!("static int f{f:02}_{l}(int x)"),
            1 => "{".to_string(),
            2 => format!("\treturn x * {} + {f};", l % 13 + 1),
            _ => "}".to_string(),
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// `suites` suites running `true`, their environment tagged with `run` so
/// that each job's fingerprint, and so its runs, are new.
fn config_text(upstream: &Path, suites: usize, run: &str) -> String {
    let mut s = format!(
        "database = \"sqlite\"\n\n[tree.t]\nrepo = \"{}\"\nbases = [\"master\"]\ntag = \"\"\n",
        upstream.display()
    );
    for n in 1..=suites {
        let _ = write!(
            s,
            "\n[tree.t.suite.s{n}]\nrun = \"true\"\nformat = \"exit-code\"\n\n[tree.t.suite.s{n}.env]\nBENCH_RUN = \"{run}-s{n}\"\n"
        );
    }
    s
}

/// One job, measured.
struct Job {
    cost: measure::Cost,
    /// Suite runs the job made (base and series for each suite).
    sandbox_runs: usize,
    /// Their durations as recorded in the store, summed.
    recorded_ms: u64,
}

/// `patchgate test 1 --json` with a configuration of `suites` suites whose
/// fingerprints are new (`run`), as one timed process; then the runs it
/// recorded, read back from the store.
fn job(setup: &Setup, patchgate: &Path, suites: usize, run: &str) -> anyhow::Result<Job> {
    std::fs::write(&setup.config, config_text(&setup.upstream, suites, run))?;
    let out_path = setup.dir.join("test.json");
    let err_path = setup.dir.join("test.stderr");
    let mut c = measure::pinned(patchgate);
    c.arg("--config")
        .arg(&setup.config)
        .args(["test", "1", "--json"])
        .stdout(File::create(&out_path)?)
        .stderr(File::create(&err_path)?);
    let cost = measure::run(&mut c).with_context(|| {
        format!(
            "patchgate test: {}",
            std::fs::read_to_string(&err_path).unwrap_or_default()
        )
    })?;
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out_path)?)?;
    ensure!(
        report["verdict"] == "pass" && report["applied"] == true,
        "the job did not pass: {report}"
    );
    let commit = |k: &str| report[k].as_str().map(str::to_string);
    let (Some(base), Some(head)) = (commit("base"), commit("head")) else {
        bail!("no base or head in the report: {report}");
    };

    let config = Config::load(&setup.config)?;
    let Database::Sqlite(db) = &config.database else {
        bail!("the benchmark's configuration names SQLite");
    };
    let store = SqliteStore::open(db)?;
    let tree = config.trees.get("t").context("tree t")?;
    let mut ids = std::collections::BTreeSet::new();
    let mut recorded_ms = 0;
    for suite in tree.suites.values() {
        let fp = patchgate_core::testing::fingerprint(suite);
        for commit in [&base, &head] {
            let runs = store.runs_for(commit, &fp)?;
            ensure!(
                runs.len() == 1,
                "suite {} on {commit}: {} runs stored, 1 expected (a reused or retried run)",
                suite.name,
                runs.len()
            );
            for r in &runs {
                if ids.insert(r.id) {
                    recorded_ms += r.run.duration_ms;
                }
            }
        }
    }
    let sandbox_runs = ids.len();
    ensure!(
        sandbox_runs == 2 * suites,
        "{sandbox_runs} distinct runs for {suites} suite(s), {} expected",
        2 * suites
    );
    Ok(Job {
        cost,
        sandbox_runs,
        recorded_ms,
    })
}

struct AmCycle {
    fetch: Duration,
    add: Duration,
    am: Duration,
    remove: Duration,
}

/// `git worktree add`, `git am --3way` of the series as patchgate hands it
/// to git, and `git worktree remove`, each a pinned process, with the same
/// options as patchgate's.
fn am_cycle(setup: &Setup) -> anyhow::Result<AmCycle> {
    let wt = setup.dir.join("am-worktree");
    let git = |cwd: &Path, args: &[&str]| -> anyhow::Result<Duration> {
        let mut c = measure::pinned(Path::new("git"));
        c.current_dir(cwd);
        git_env(&mut c, &setup.home);
        c.env("GIT_COMMITTER_NAME", "patchgate")
            .env("GIT_COMMITTER_EMAIL", "patchgate@localhost")
            .env("GIT_COMMITTER_DATE", format!("@{} +0000", EPOCH + 7200))
            .args(args)
            .stdout(Stdio::null());
        Ok(measure::run(&mut c)?.wall)
    };
    let wt_arg = wt.to_string_lossy().into_owned();
    let add = git(
        &setup.am_repo,
        &["worktree", "add", "--detach", "--quiet", &wt_arg, "master"],
    )?;
    let mbox = setup.am_mbox.to_string_lossy().into_owned();
    let am = git(
        &wt,
        &[
            "am",
            "--no-gpg-sign",
            "--patch-format=mboxrd",
            "--3way",
            "--quiet",
            &mbox,
        ],
    )?;
    let remove = git(
        &setup.am_repo,
        &["worktree", "remove", "--force", "--force", &wt_arg],
    )?;
    let fetch = git(&setup.mirror, &["fetch", "--prune", "--quiet", "origin"])?;
    Ok(AmCycle {
        fetch,
        add,
        am,
        remove,
    })
}

/// What a suite of `true` costs on its own: `sh -c true`, unconfined.
fn bare_true() -> anyhow::Result<Duration> {
    let t = Instant::now();
    let status = Command::new("/bin/sh").args(["-c", "true"]).status()?;
    let d = t.elapsed();
    ensure!(status.success(), "sh -c true failed");
    Ok(d)
}

fn table(
    args: &Args,
    variants: &[Jobs],
    first: &Job,
    am: &Am,
    starts: &Starts,
    am_mbox: &Path,
) -> String {
    let mut s = format!(
        "\n{:<48} {:>9} {:>9} {:>6}\n",
        "1 core, ms", "median", "p90", "n"
    );
    let mut row = |name: &str, x: &Samples| {
        let _ = writeln!(
            s,
            "{name:<48} {:>9.1} {:>9.1} {:>6}",
            x.median(),
            x.p90(),
            x.0.len()
        );
    };
    for v in variants {
        let runs = 2 * v.suites;
        row(
            &format!("job total, {} suite(s) (patchgate test)", v.suites),
            &v.total,
        );
        row(&format!("  suites' own time ({runs} x bare true)"), &v.own);
        row("  overhead (total - own time)", &v.overhead);
        row(
            &format!("  suite runs as recorded ({runs}, sandbox incl.)"),
            &v.recorded,
        );
        row("  job beyond the recorded runs", &v.beyond_recorded);
        row("  job cpu (patchgate + children)", &v.cpu);
    }
    row("git fetch (patchgate's mirror, up to date)", &am.fetch);
    row("git worktree add", &am.add);
    row(&format!("git am --3way, {PATCHES} patches"), &am.am);
    row("git am, per patch", &am.per_patch);
    row("git worktree remove", &am.remove);
    row("git worktree add + am + remove", &am.cycle);
    row(
        "sandbox run of true, confined (bwrap+cgroups)",
        &starts.confined,
    );
    row(
        "  its Outcome::duration (what a run records)",
        &starts.confined_recorded,
    );
    row("sh -c true, bare", &starts.bare);
    let _ = writeln!(
        s,
        "{:<48} {:>9.1}",
        "sandbox start-up (confined - bare, medians)",
        starts.confined.median() - starts.bare.median()
    );
    let _ = writeln!(
        s,
        "\nfirst job (mirror clone), 1 suite: {:.1} ms; peak RSS of a job: {}",
        first.cost.wall.as_secs_f64() * 1e3,
        variants
            .iter()
            .map(|v| format!("{:.1} MB ({} suite(s))", v.rss_mb.median(), v.suites))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        s,
        "{} rounds; {} sandbox starts each way; git am reads {}",
        args.runs,
        args.runs * args.starts,
        am_mbox.display()
    );
    s
}

/// One more job (1 suite) under `strace -f`, told as the processes
/// patchgate starts, in order: how long each took and how long patchgate
/// itself worked before it. patchgate does not log its phases; its
/// children mark them. strace slows process start-up, so the spans are
/// larger than in the table; the shares are what to read.
fn timeline(setup: &Setup, patchgate: &Path) -> anyhow::Result<String> {
    std::fs::write(&setup.config, config_text(&setup.upstream, 1, "timeline"))?;
    let trace = setup.dir.join("timeline.strace");
    let status = Command::new("strace")
        .args(["--seccomp-bpf", "-f", "-ttt", "-s", "200"])
        .args([
            "-e",
            "trace=execve,exit_group,clone,clone3,fork,vfork",
            "-o",
        ])
        .arg(&trace)
        .args(["taskset", "-c", "0"])
        .arg(patchgate)
        .arg("--config")
        .arg(&setup.config)
        .args(["test", "1", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("cannot run strace")?;
    ensure!(status.success(), "the traced job failed ({status})");

    // pid -> (start, end, argv) from the fork, the execve and the last
    // exit; child -> parent from the clones.
    let mut procs: std::collections::BTreeMap<u32, (f64, f64, Vec<String>)> = Default::default();
    let mut parents = std::collections::BTreeMap::new();
    let mut root = None;
    for line in std::fs::read_to_string(&trace)?.lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some(pid), Some(at), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(pid), Ok(at)) = (pid.parse::<u32>(), at.parse::<f64>()) else {
            continue;
        };
        let root = *root.get_or_insert(pid);
        let call = rest.trim_start_matches("<... ");
        if ["clone", "fork", "vfork"]
            .iter()
            .any(|c| call.starts_with(c))
        {
            if let Some(child) = rest
                .rsplit_once("= ")
                .and_then(|(_, n)| n.trim().parse::<u32>().ok())
            {
                parents.insert(child, pid);
                // A child's span starts at its fork: what it does before
                // exec (joining the run's cgroups) is its own cost.
                let entry = procs.entry(child).or_insert((at, at, Vec::new()));
                entry.0 = entry.0.min(at);
            }
        }
        let entry = procs.entry(pid).or_insert((at, at, Vec::new()));
        if rest.starts_with("execve(") && !rest.contains("= -1 ") {
            // The argv strings, up to the end of the list.
            let list = rest.split_once('[').map_or("", |(_, l)| l);
            let list = list.split_once("],").map_or(list, |(l, _)| l);
            entry.2 = list
                .split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect();
        }
        if rest.starts_with("exit_group(") || rest.starts_with("+++ exited") {
            entry.1 = entry.1.max(at);
        }
        if pid == root {
            entry.1 = entry.1.max(at);
        }
    }
    let root = root.context("empty trace")?;
    let (t0, t_end, _) = procs.get(&root).cloned().context("no root process")?;
    // The processes patchgate started, from any of its threads; not git's
    // helpers or the suite inside bwrap. Threads have no execve.
    let started_by_patchgate = |pid: u32| {
        let mut p = parents.get(&pid).copied();
        while let Some(q) = p.filter(|q| *q != root) {
            if procs.get(&q).is_some_and(|e| !e.2.is_empty()) {
                return false;
            }
            p = parents.get(&q).copied();
        }
        p == Some(root)
    };
    let mut children: Vec<(f64, f64, Vec<String>)> = procs
        .iter()
        .filter(|(pid, p)| **pid != root && !p.2.is_empty() && started_by_patchgate(**pid))
        .map(|(_, p)| p.clone())
        .collect();
    children.sort_by(|a, b| a.0.total_cmp(&b.0));

    let ms = |d: f64| d * 1e3;
    let mut out =
        String::from("\ntimeline of one job, 1 suite, under strace (spans inflated by tracing):\n");
    let _ = writeln!(
        out,
        "{:>9} {:>9}  process patchgate started (their children not shown)",
        "before ms", "took ms"
    );
    let (mut own, mut git, mut bwrap, mut other) = (0.0, 0.0, 0.0, 0.0);
    let mut last = t0;
    for (start, end, argv) in &children {
        let label = label(argv);
        let took = end - start;
        match label.split(' ').next() {
            Some("git") => git += took,
            Some("bwrap") => bwrap += took,
            _ => other += took,
        }
        own += (start - last).max(0.0);
        let _ = writeln!(out, "{:>9.1} {:>9.1}  {label}", ms(start - last), ms(took));
        last = *end;
    }
    own += t_end - last;
    let _ = writeln!(out, "{:>9.1} {:>9}  (exit)", ms(t_end - last), "");
    let _ = writeln!(
        out,
        "total {:.1} ms: patchgate itself {:.1}, git {:.1}, bwrap {:.1}, other {:.1}",
        ms(t_end - t0),
        ms(own),
        ms(git),
        ms(bwrap),
        ms(other)
    );
    Ok(out)
}

/// A process's argv, short: the program's file name and its arguments
/// without git's `-c name=value` options.
fn label(argv: &[String]) -> String {
    let mut words = Vec::new();
    let mut args = argv.iter();
    if let Some(program) = args.next() {
        words.push(program.rsplit('/').next().unwrap_or(program).to_string());
    }
    while let Some(a) = args.next() {
        if a == "-c" && words.first().is_some_and(|w| w == "git") {
            args.next();
            continue;
        }
        words.push(a.clone());
    }
    let mut text = words.join(" ");
    if text.len() > 72 {
        let mut cut = 69;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

/// A git command with no user or system configuration but a fixed identity,
/// like patchgate's own.
fn git_command(home: &Path, cwd: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(cwd);
    git_env(&mut c, home);
    c
}

fn git_env(c: &mut Command, home: &Path) {
    c.env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "A Submitter")
        .env("GIT_AUTHOR_EMAIL", "submitter@example.org")
        .env("GIT_COMMITTER_NAME", "A Submitter")
        .env("GIT_COMMITTER_EMAIL", "submitter@example.org")
        .args([
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "advice.detachedHead=false",
        ]);
}

/// Pin this process, all its threads and whatever it starts from now on to
/// core 0.
fn pin_self() -> anyhow::Result<()> {
    let status = Command::new("taskset")
        .args(["-a", "-c", "-p", "0"])
        .arg(std::process::id().to_string())
        .stdout(Stdio::null())
        .status()?;
    ensure!(status.success(), "taskset -a -c -p 0 failed");
    Ok(())
}
