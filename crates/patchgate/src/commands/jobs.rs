//! `patchgate jobs`: the job table, for operators.

use crate::commands::series::date;
use crate::context::Context;
use crate::table::Table;
use patchgate_store::{JobFilter, JobStatus};
use std::path::Path;

/// List jobs: what is queued, running (and on which worker), done or failed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only jobs in this status: queued, running, done, failed.
    #[arg(long, value_parser = parse_status)]
    status: Option<JobStatus>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[arg(long)]
    json: bool,
}

fn parse_status(s: &str) -> Result<JobStatus, String> {
    JobStatus::parse(s).ok_or_else(|| format!("`{s}`: write queued, running, done or failed"))
}

pub fn run(args: Args, config: &Path) -> anyhow::Result<()> {
    let ctx = Context::open(config)?;
    let jobs = ctx.store.jobs(&JobFilter {
        status: args.status,
        limit: Some(args.limit),
        newest_first: true,
        ..JobFilter::default()
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&jobs)?);
        return Ok(());
    }
    let mut t = Table::new(&[
        "JOB", "KIND", "SERIES", "STATUS", "ATTEMPTS", "WORKER", "ENQUEUED", "OUTCOME",
    ]);
    for j in &jobs {
        t.row(vec![
            j.id.to_string(),
            j.kind.clone(),
            j.series_id.map(|s| s.to_string()).unwrap_or_default(),
            j.status.to_string(),
            format!("{}/{}", j.attempts, j.max_attempts),
            j.worker.clone().unwrap_or_default(),
            date(Some(j.enqueued_at)),
            {
                let outcome = j
                    .outcome
                    .as_ref()
                    .map(|o| o.to_string())
                    .unwrap_or_default();
                match (j.status, j.not_before) {
                    (JobStatus::Queued, Some(t)) => {
                        format!("tried again after {}: {outcome}", date(Some(t)))
                    }
                    _ => outcome,
                }
            },
        ]);
    }
    print!("{}", t.render(70));
    Ok(())
}
