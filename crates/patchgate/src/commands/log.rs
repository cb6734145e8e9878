//! `patchgate log SERIES`: a suite's whole output, as it ran on the series
//! (or on its base) when it was last tested.

use crate::commands::series::resolve;
use crate::context::Context;
use anyhow::{anyhow, bail};
use patchgate_core::testing::{fingerprint, short};
use patchgate_store::{RunRecord, Store};
use std::path::Path;

/// Print the output of a series' suites from its last test: every attempt
/// of every suite the tree runs, or of `--suite S`; `--base` for the runs
/// on the base it was compared with.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Series id, the Message-ID of any of its mails, or topic:N.
    series: String,
    /// Only this suite.
    #[arg(long)]
    suite: Option<String>,
    /// The runs on the base commit instead of the series'.
    #[arg(long)]
    base: bool,
}

pub fn run(args: Args, config: &Path) -> anyhow::Result<()> {
    let ctx = Context::open(config)?;
    let id = resolve(ctx.store.as_ref(), &args.series)?;
    let verdict = ctx.store.latest_verdict(id, None)?.ok_or_else(|| {
        anyhow!("series {id} has not been tested yet; `patchgate test {id}` tests it now")
    })?;
    let report = &verdict.verdict;
    let tree_name = report["tree"].as_str().unwrap_or_default();
    let tree = ctx.config.trees.get(tree_name).ok_or_else(|| {
        anyhow!(
            "series {id} was tested with tree `{tree_name}`, which the configuration no longer has"
        )
    })?;
    let (commit, what) = if args.base {
        (report["base"].as_str(), "base")
    } else {
        (report["head"].as_str(), "series")
    };
    let Some(commit) = commit else {
        bail!(
            "series {id} did not apply, so no suite ran on it{}",
            if args.base {
                ""
            } else {
                "; `--base` shows the base's runs, if any"
            }
        );
    };
    if let Some(s) = &args.suite {
        if !tree.suites.contains_key(s) {
            let known: Vec<&str> = tree.suites.keys().map(String::as_str).collect();
            bail!(
                "tree {tree_name} has no suite `{s}`; its suites: {}",
                known.join(", ")
            );
        }
    }
    let mut printed = 0;
    for (name, suite) in &tree.suites {
        if args.suite.as_ref().is_some_and(|s| s != name) {
            continue;
        }
        for r in runs(ctx.store.as_ref(), commit, &fingerprint(suite))? {
            println!(
                "== {name} on the {what} {} (attempt {}: {}, {} ms) ==",
                short(commit),
                r.run.attempt,
                r.run.status,
                r.run.duration_ms
            );
            print!("{}", r.run.output);
            if !r.run.output.ends_with('\n') && !r.run.output.is_empty() {
                println!();
            }
            printed += 1;
        }
    }
    if printed == 0 {
        bail!(
            "no stored run of {} on the {what} {}",
            args.suite.as_deref().unwrap_or("any suite"),
            short(commit)
        );
    }
    Ok(())
}

/// The stored attempts of one suite on one commit, first attempt first.
pub fn runs(store: &dyn Store, commit: &str, fingerprint: &str) -> anyhow::Result<Vec<RunRecord>> {
    let mut runs = store.runs_for(commit, fingerprint)?;
    runs.sort_by_key(|r| r.run.attempt);
    Ok(runs)
}

/// The last `n` lines of `text`, and how many lines it has.
pub fn tail(text: &str, n: usize) -> (Vec<&str>, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let total = lines.len();
    (lines[total.saturating_sub(n)..].to_vec(), total)
}
