//! `patchgate demo`: the bundled example, end to end, in a temporary folder.
//!
//! The example (`examples/calc` in the source tree) is built into the
//! binary, so the demo needs nothing but git, a C compiler and bubblewrap.
//! Its repository is made by the example's own script, with fixed names and
//! dates, so the commits and the mails' `base-commit:` lines agree on every
//! machine.

use crate::commands::run::{cycle, done_table};
use crate::commands::series::date;
use crate::context::Context;
use crate::table::Table;
use anyhow::{bail, Context as _};
use include_dir::{include_dir, Dir};
use patchgate_core::ingest::{SourceKind, SourceRef};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

static EXAMPLE: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../examples/calc");

/// Run the bundled example end to end: a small C project, a mailing list of
/// seven series revisions against it, each applied, tested in the sandbox,
/// classified against its base and judged; a summary at the end.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Build the example here and keep it (default: a temporary folder,
    /// removed afterwards).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Print every series' full report too.
    #[arg(long)]
    reports: bool,
    /// Jobs to run at once.
    #[arg(long, short = 'j', default_value_t = 2)]
    jobs: usize,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let temp;
    let dir = match &args.dir {
        Some(d) => {
            if d.join("patchgate.toml").exists() {
                bail!(
                    "{} holds a demo already; give an empty or new folder",
                    d.display()
                );
            }
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            d.clone()
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("patchgate-demo-")
                .tempdir()?;
            temp.path().to_path_buf()
        }
    };
    build_example(&dir)?;
    println!("patchgate demo: the calc example in {}", dir.display());
    println!("replaying its mailing list day by day: each day's mail is ingested, then tested\n");
    let mut ctx = Context::open(&dir.join("patchgate.toml"))?;
    for (day, file) in split_by_day(&dir)? {
        let source = SourceRef {
            kind: SourceKind::Mbox,
            path: file,
        };
        let (summary, _, done) = cycle(&mut ctx, &[source], args.jobs)?;
        println!(
            "{day}: {}, {} new, {} superseded, {} tested",
            super::plural(summary.read, "message", "messages"),
            super::plural(summary.series_new, "series", "series"),
            summary.series_superseded,
            done.len()
        );
        if !done.is_empty() {
            for line in done_table(&ctx, &done, args.reports).lines() {
                println!("    {line}");
            }
        }
    }
    println!("\nwhere every series stands now:");
    print!("{}", final_table(&ctx)?);
    if args.dir.is_some() {
        // Its patchgate.toml is the default config there: after `cd`, every
        // command works on the demo as is.
        println!("\nto explore it: cd {}", dir.display());
        println!("then: patchgate series list, patchgate series show 1, patchgate test 1");
    }
    Ok(ExitCode::SUCCESS)
}

/// The example's list cut into one mbox per posting day, in date order, so
/// the demo sees revisions arrive as a maintainer did.
fn split_by_day(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let list = std::fs::read(dir.join("list.mbox"))?;
    let mut days: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for raw in patchgate_mail::mbox::split(&list) {
        let message = patchgate_mail::parse(&raw);
        let day = date(message.date)
            .get(..10)
            .unwrap_or("undated")
            .to_string();
        let entry = days.entry(day).or_default();
        entry.extend_from_slice(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n");
        entry.extend_from_slice(&patchgate_mail::mbox::escape(&raw));
        entry.extend_from_slice(b"\n");
    }
    let by_day = dir.join("list-by-day");
    std::fs::create_dir_all(&by_day)?;
    let mut out = Vec::new();
    for (day, bytes) in days {
        let file = by_day.join(format!("{day}.mbox"));
        std::fs::write(&file, bytes)?;
        out.push((day, file));
    }
    Ok(out)
}

/// Every series with its state and latest verdict.
fn final_table(ctx: &Context) -> anyhow::Result<String> {
    let mut series = ctx.store.list_series(&Default::default())?;
    series.sort_by_key(|s| s.id);
    let mut t = Table::new(&["ID", "VER", "STATE", "VERDICT", "SUBJECT", "WHY"]);
    for s in &series {
        let verdict = ctx.store.latest_verdict(s.id, None)?;
        let (word, why) = match verdict {
            Some(v) => {
                let word = v.verdict["verdict"].as_str().unwrap_or("-").to_string();
                let why: Vec<String> = v.verdict["rules"]
                    .as_array()
                    .map(|rules| {
                        rules
                            .iter()
                            .filter(|r| r["status"] != "pass")
                            .map(|r| {
                                format!(
                                    "{}: {}",
                                    r["name"].as_str().unwrap_or(""),
                                    r["reason"].as_str().unwrap_or("")
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (word, why.join("; "))
            }
            None => ("-".to_string(), "not tested".to_string()),
        };
        let state = match s.superseded_by {
            Some(by) => format!("{} by {by}", s.state),
            None => s.state.to_string(),
        };
        t.row(vec![
            s.id.to_string(),
            format!("v{}", s.version),
            state,
            word,
            s.subject.clone(),
            why,
        ]);
    }
    Ok(t.render(90))
}

/// Write the example's files to `dir` and let its script make `calc.git`.
#[allow(clippy::disallowed_methods)] // the example's own script defines its history
fn build_example(dir: &Path) -> anyhow::Result<()> {
    let src = dir.join("example");
    std::fs::create_dir_all(&src).with_context(|| format!("cannot create {}", src.display()))?;
    EXAMPLE
        .extract(&src)
        .with_context(|| format!("cannot write the example to {}", src.display()))?;
    // The script is the example's own definition of its history; running it
    // is what makes the commit ids the mails name.
    let out = std::process::Command::new("sh")
        .arg(src.join("make-list.sh"))
        .arg(dir)
        .output()
        .context("cannot run sh to build the example repository")?;
    if !out.status.success() {
        bail!(
            "building the example repository failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::copy(src.join("patchgate.toml"), dir.join("patchgate.toml"))?;
    Ok(())
}
