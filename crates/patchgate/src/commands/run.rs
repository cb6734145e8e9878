//! `patchgate run`: the main job once.

use crate::commands::ingest::{ingest_sources, print_summary};
use crate::context::Context;
use crate::table::Table;
use patchgate_core::ingest::{detect, SourceRef, Summary};
use patchgate_core::render::verdict as render;
use patchgate_core::worker::Done;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// The main job once: ingest the configured sources, schedule a test for
/// every new revision, run them, judge, and print a summary.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Jobs to run at once; 0 only ingests and schedules, leaving the jobs
    /// to `patchgate worker` processes (on this or other machines).
    #[arg(long, short = 'j', default_value_t = 1, value_parser = super::jobs_parser(0))]
    jobs: usize,
    /// Print every series' full report, not only the summary table.
    #[arg(long)]
    reports: bool,
}

pub fn run(args: Args, config: &Path) -> anyhow::Result<ExitCode> {
    let mut ctx = Context::open(config)?;
    let (no_source, no_tree) = (ctx.config.sources.is_empty(), ctx.config.trees.is_empty());
    if no_source && no_tree {
        anyhow::bail!(
            "nothing to run: {} names no mail to read and no tree to test. Add, for example:\n\n\
             {SOURCE_EXAMPLE}\n{TREE_EXAMPLE}\n\
             (`patchgate init` writes a commented file; `patchgate demo` shows one at work)",
            config.display()
        );
    }
    if no_source {
        eprintln!(
            "note: {} has no [[source]], so no mail is read; to read a list, add:\n\n{SOURCE_EXAMPLE}",
            config.display()
        );
    }
    if no_tree {
        eprintln!(
            "note: {} has no [tree.NAME], so series are read but not tested; to test them, add:\n\n{TREE_EXAMPLE}",
            config.display()
        );
    }
    let sources = ctx
        .config
        .sources
        .iter()
        .map(|s| detect(&s.path.to_string_lossy()))
        .collect::<Result<Vec<_>, _>>()?;
    let (summary, elapsed, done) = cycle(&mut ctx, &sources, args.jobs)?;
    print_summary(&summary, elapsed);
    if !done.is_empty() {
        print!("{}", done_table(&ctx, &done, args.reports));
    } else if args.jobs == 0 {
        println!("tests scheduled, left to `patchgate worker` (--jobs 0)");
    } else {
        println!("no revision to test");
    }
    // A job that did not finish is no verdict: say so, and exit non-zero
    // so a cron job or a script notices.
    let unfinished: Vec<&Done> = done.iter().filter(|d| d.error.is_some()).collect();
    if unfinished.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for d in &unfinished {
        let series = d
            .series
            .map_or_else(String::new, |s| format!(" (series {s})"));
        let what = if d.failed {
            "failed for good; see `patchgate jobs --status failed`"
        } else {
            "is queued to be tried again by the next run or worker"
        };
        eprintln!(
            "job {}{series} did not finish and {what}: {}",
            d.job,
            d.error.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::from(2))
}

const SOURCE_EXAMPLE: &str =
    "    [[source]]\n    path = \"lists/kvm.mbox\"   # or a Maildir, or a public-inbox archive\n";
const TREE_EXAMPLE: &str = "    [tree.calc]\n    repo = \"calc.git\"         # path or URL of the repository patches apply to\n    bases = [\"master\"]\n\n    [tree.calc.suite.build]\n    run = \"make\"\n";

/// One turn of the main job over `sources`: ingest, schedule, test until
/// no job is left. Shared with `patchgate demo`.
pub fn cycle(
    ctx: &mut Context,
    sources: &[SourceRef],
    jobs: usize,
) -> anyhow::Result<(Summary, Duration, Vec<Done>)> {
    let started = Instant::now();
    let summary = ingest_sources(ctx, sources, None)?;
    let elapsed = started.elapsed();
    patchgate_core::worker::schedule(ctx.store.as_mut(), &ctx.config, super::now())?;
    if jobs == 0 {
        return Ok((summary, elapsed, Vec::new()));
    }
    let stop = AtomicBool::new(false);
    let name = super::worker::default_name();
    // This run's jobs, for its summary table.
    let finished = std::sync::Mutex::new(Vec::new());
    let keep = |d: Done| {
        finished
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(d);
    };
    super::worker::run_workers(&ctx.config, &name, jobs, 120, true, &stop, &keep)?;
    let mut done = finished
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    done.sort_by_key(|d| d.series);
    Ok((summary, elapsed, done))
}

/// The jobs just done, one line each (and each report with `reports`).
pub fn done_table(ctx: &Context, done: &[Done], reports: bool) -> String {
    let mut out = String::new();
    let mut t = Table::new(&["SERIES", "VERDICT", "SUBJECT", "WHY"]);
    for d in done {
        let series = d.series.map(|s| s.to_string()).unwrap_or_default();
        let subject = match d.series.map(|s| ctx.store.get_series(s)) {
            Some(Ok(Some(s))) => format!("v{} {}", s.version, s.subject),
            _ => String::new(),
        };
        match (&d.report, &d.error) {
            (Some(r), _) => {
                let why: Vec<String> = r
                    .verdict
                    .blocking()
                    .map(|b| format!("{}: {}", b.name, b.reason))
                    .collect();
                t.row(vec![series, verdict_word(r), subject, why.join("; ")]);
                if reports {
                    out.push_str(&render(r));
                    out.push('\n');
                }
            }
            (None, e) => t.row(vec![
                series,
                "error".into(),
                subject,
                e.clone().unwrap_or_default(),
            ]),
        }
    }
    out.push_str(&t.render(100));
    out
}

/// `pass` or `fail`.
pub fn verdict_word(r: &patchgate_core::testing::TestReport) -> String {
    match r.verdict.verdict {
        patchgate_gate::VerdictStatus::Pass => "pass".into(),
        patchgate_gate::VerdictStatus::Fail => "fail".into(),
    }
}
