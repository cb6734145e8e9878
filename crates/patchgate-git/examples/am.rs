//! Benchmark: the apply step of one job on a small tree — worktree add,
//! `git am -3` of a 10-patch series, worktree remove — and `git am` alone per
//! patch. Prints the median over 20 runs.
//!
//!     cargo run --release -p patchgate-git --example am

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use patchgate_git::{AmOptions, AmOutcome, Mirror, Oid};

const RUNS: usize = 20;
const PATCHES: usize = 10;
const FILES: usize = 40;

type Error = Box<dyn std::error::Error>;

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, Error> {
    let output = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.org")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.org")
        .args(args)
        .output()?;
    if !output.status.success() {
        return Err(format!("git {args:?}: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(output.stdout)
}

/// A tree of `FILES` C-like files and a series of `PATCHES` commits, each
/// editing two files; returns the base commit and the series as an mbox.
fn make_tree(dir: &Path) -> Result<(Oid, Vec<u8>), Error> {
    git(dir, &["init", "--quiet", "--initial-branch=master"])?;
    std::fs::create_dir_all(dir.join("src"))?;
    for f in 0..FILES {
        let body: String = (0..200)
            .map(|l| format!("int f{f}_{l}(void) {{ return {l}; }}\n"))
            .collect();
        std::fs::write(dir.join(format!("src/file{f}.c")), body)?;
    }
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "--quiet", "-m", "base"])?;
    let base = String::from_utf8(git(dir, &["rev-parse", "HEAD"])?)?;
    for p in 0..PATCHES {
        for f in [p, p + FILES / 2] {
            let path = dir.join(format!("src/file{f}.c"));
            let text = std::fs::read_to_string(&path)?;
            let old = format!("int f{f}_100(void) {{ return 100; }}\n");
            std::fs::write(
                &path,
                text.replace(&old, &format!("int f{f}_100(void) {{ return {p}; }}\n")),
            )?;
        }
        git(
            dir,
            &["commit", "--quiet", "-am", &format!("bench: change {p}")],
        )?;
    }
    let mbox = git(
        dir,
        &[
            "format-patch",
            "--stdout",
            &format!("{}..HEAD", base.trim()),
        ],
    )?;
    Ok((Oid::parse(&base)?, mbox))
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

fn main() -> Result<(), Error> {
    let tmp = tempfile::tempdir()?;
    let upstream = tmp.path().join("up");
    std::fs::create_dir_all(&upstream)?;
    let (base, mbox) = make_tree(&upstream)?;
    let source = upstream.to_str().ok_or("temporary path is not UTF-8")?;
    let mirror = Mirror::open_or_clone(source, tmp.path().join("mirror.git"))?;
    let options = AmOptions {
        committer_date: Some("@1700000000 +0000".into()),
        ..AmOptions::default()
    };
    let (mut whole, mut am_only) = (Vec::new(), Vec::new());
    for run in 0..RUNS {
        let start = Instant::now();
        let worktree = mirror.add_worktree(tmp.path().join(format!("jobs/{run}")), &base)?;
        let am_start = Instant::now();
        let outcome = worktree.am(&mbox, &options)?;
        am_only.push(am_start.elapsed());
        if let AmOutcome::Failed(failure) = outcome {
            return Err(format!("series did not apply: {failure:?}").into());
        }
        worktree.remove()?;
        whole.push(start.elapsed());
    }
    let am = median(am_only);
    println!("tree: {FILES} files x 200 lines; series: {PATCHES} patches; {RUNS} runs");
    println!(
        "worktree add + am -3 + remove: median {:.1} ms",
        median(whole)
    );
    println!(
        "git am -3 of the series:       median {am:.1} ms ({:.2} ms per patch)",
        am / PATCHES as f64
    );
    Ok(())
}
