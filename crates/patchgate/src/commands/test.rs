//! `patchgate test SERIES`: apply and run now, in the foreground.

use crate::commands::series::resolve;
use crate::context::Context;
use patchgate_core::testing::{TestReport, Tester};
use patchgate_gate::{SuiteStatus, VerdictStatus};
use std::path::Path;
use std::process::ExitCode;

/// Apply a series and run its tree's suites now; print what the gate says.
///
/// The series is applied with `git am -3` to its base (its base-commit:, else
/// each configured base branch), every suite the branch requires runs on it
/// and on the base in the sandbox, each test is classified against the base,
/// and the branch's rules are judged. Exits 0 when the verdict is pass, 1
/// when it is fail. A submitter can run it on a series before posting it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Series id, the Message-ID of any of its mails, or topic:N.
    series: String,
    /// Judge against this branch's rules (default: the tree's first branch).
    #[arg(long)]
    branch: Option<String>,
    /// Print the verdict as JSON (fields documented in the README).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, config: &Path) -> anyhow::Result<ExitCode> {
    let mut ctx = Context::open(config)?;
    let id = resolve(ctx.store.as_ref(), &args.series)?;
    // Ctrl-C or SIGTERM stops the suite that runs, removes the worktrees
    // and leaves the series new again (a second Ctrl-C exits at once).
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, interrupted.clone())?;
        signal_hook::flag::register(signal, interrupted.clone())?;
    }
    let sandbox = crate::context::cancellable_sandbox(interrupted.clone())?;
    let tester = Tester {
        config: &ctx.config,
        sandbox: &sandbox,
        clock: &crate::context::SystemClock,
        actor: "patchgate test".into(),
    };
    let report = match tester.test(ctx.store.as_mut(), id, args.branch.as_deref()) {
        Ok(r) => r,
        Err(e) if e.is_interrupted() || interrupted.load(std::sync::atomic::Ordering::Relaxed) => {
            eprintln!("interrupted: series {id} was not tested; it is new again and will be tested by the next `patchgate run`");
            return Ok(ExitCode::from(130));
        }
        Err(e) => return Err(e.into()),
    };
    tester.record(ctx.store.as_mut(), &report)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", patchgate_core::render::verdict(&report));
        print!("{}", failing_logs(&ctx, &report));
    }
    Ok(if report.verdict.verdict == VerdictStatus::Pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Lines of a failing suite's output shown under the report.
const LOG_TAIL: usize = 20;

/// The end of each failing suite's output with the series (its last
/// attempt), where a build or a test says what went wrong.
fn failing_logs(ctx: &Context, r: &TestReport) -> String {
    let mut out = String::new();
    let (Some(head), Some(tree)) = (&r.head, ctx.config.trees.get(&r.tree)) else {
        return out;
    };
    for s in &r.verdict.suites {
        if s.status == SuiteStatus::Pass {
            continue;
        }
        let Some(suite) = tree.suites.get(&s.name) else {
            continue;
        };
        let Ok(runs) = super::log::runs(
            ctx.store.as_ref(),
            head,
            &patchgate_core::testing::fingerprint(suite),
        ) else {
            continue;
        };
        let Some(last) = runs.last() else { continue };
        let (lines, total) = super::log::tail(&last.run.output, LOG_TAIL);
        if lines.is_empty() {
            continue;
        }
        let shown = if total > lines.len() {
            format!("last {} of {total} lines", lines.len())
        } else {
            format!("{total} lines")
        };
        out.push_str(&format!(
            "\n  {} output ({shown}; all of it: patchgate log {} --suite {}):\n",
            s.name, r.series, s.name
        ));
        for l in lines {
            out.push_str(&format!("  | {l}\n"));
        }
    }
    out
}
