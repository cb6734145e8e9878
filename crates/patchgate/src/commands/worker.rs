//! `patchgate worker`: claim and run jobs until stopped.

use crate::context::{open_store, Context, SystemClock};
use patchgate_core::config::Config;
use patchgate_core::testing::Tester;
use patchgate_core::worker::{pool, Done, Registry, TestSeries, WorkerOptions};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Claim test jobs from the store and run them until stopped.
///
/// Each job is held with a lease renewed by a heartbeat; a worker that dies
/// loses its jobs when their lease ends, and another worker runs them again,
/// reusing the runs already recorded. SIGINT or SIGTERM stops the worker
/// after the jobs in hand.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Jobs to run at once.
    #[arg(long, short = 'j', default_value_t = 1, value_parser = super::jobs_parser(1))]
    jobs: usize,
    /// Seconds a claim lasts without a heartbeat.
    #[arg(long, default_value_t = 120)]
    lease: i64,
    /// Stop when no job is left instead of waiting for more.
    #[arg(long)]
    until_idle: bool,
    /// Name in the job table and the event log (default: host:pid).
    #[arg(long)]
    name: Option<String>,
}

pub fn run(args: Args, config: &Path) -> anyhow::Result<()> {
    let ctx = Context::open(config)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    let name = args.name.unwrap_or_else(default_name);
    // One line per job as it ends; nothing is kept, so a worker that runs
    // for months holds no more than the jobs in hand.
    let print = |d: Done| {
        let what = match (&d.report, &d.error) {
            (Some(r), _) => format!("{:?}", r.verdict.verdict).to_lowercase(),
            (None, Some(e)) if d.failed => format!("failed: {e}"),
            (None, Some(e)) => format!("given back: {e}"),
            (None, None) => "done".to_string(),
        };
        let series = d
            .series
            .map_or_else(String::new, |s| format!(" series {s}"));
        eprintln!("job {}{series}: {what}", d.job);
    };
    let count = run_workers(
        &ctx.config,
        &name,
        args.jobs,
        args.lease,
        args.until_idle,
        &stop,
        &print,
    )?;
    eprintln!(
        "worker {name}: {count} {} done",
        if count == 1 { "job" } else { "jobs" }
    );
    Ok(())
}

/// `host:pid`, so a job table shows which machine and process holds a job.
pub fn default_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_else(|_| "localhost".into());
    format!("{}:{}", host.trim(), std::process::id())
}

/// Run `jobs` worker threads over the configured store until idle or
/// stopped; `done` sees each finished job. Returns how many ran.
pub fn run_workers(
    config: &Config,
    name: &str,
    jobs: usize,
    lease: i64,
    until_idle: bool,
    stop: &AtomicBool,
    done: &(dyn Fn(Done) + Sync),
) -> anyhow::Result<u64> {
    let sandbox = crate::context::sandbox()?;
    let open = || open_store(config).map_err(|e| format!("{e:#}"));
    let registry = |actor: String| {
        Registry::default().with(TestSeries {
            tester: Tester {
                config,
                sandbox: &sandbox,
                clock: &SystemClock,
                actor,
            },
        })
    };
    let options = WorkerOptions {
        name: name.to_string(),
        lease_secs: lease,
        until_idle,
        poll: Duration::from_secs(2),
    };
    Ok(pool(
        &open,
        &registry,
        &SystemClock,
        &options,
        jobs,
        stop,
        done,
    )?)
}
