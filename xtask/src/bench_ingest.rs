//! `cargo xtask bench-ingest`: whole `patchgate ingest` into SQLite, side by
//! side with `git mailsplit` and Python's `mailbox` over the same corpus.
//!
//! `patchgate ingest` runs on the first two cores (`taskset -c 0,1`: it
//! parses on one thread per core) and, for the figures before it did, once
//! more with `--threads 1` on core 0; the single-threaded tools run on core
//! 0. Each figure is the median of `--runs` runs, and all are measured in
//! the same rounds, so the ratios hold on a noisy machine even when the
//! absolute times wander.

use crate::{corpus, measure};

use std::path::Path;
use std::process::Stdio;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Messages in the corpus.
    #[arg(long, default_value_t = 50_000)]
    messages: usize,
    /// Runs of each tool; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

const PY_MAILBOX: &str = r#"import mailbox, sys
n = 0
for m in mailbox.mbox(sys.argv[1]):
    m['message-id']; m['subject']; m['from']; m['references']; m.get_payload()
    n += 1
print(n, file=sys.stderr)
"#;

struct Row {
    tool: &'static str,
    cores: &'static str,
    costs: Vec<measure::Cost>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let root = measure::workspace_root()?;
    let dir = root.join("target/bench");
    let mbox = dir.join(format!("corpus-{}.mbox", args.messages));
    let stats = corpus::write(&corpus::Args {
        messages: args.messages,
        out: mbox.clone(),
        seed: 2022,
    })?;
    println!(
        "corpus: {} messages ({} patches, {} covers, {} replies), {:.1} MB, {}",
        stats.messages,
        stats.patches,
        stats.covers,
        stats.replies,
        stats.bytes as f64 / 1e6,
        mbox.display()
    );
    let patchgate = measure::release_patchgate(&root)?;

    let row = |tool, cores| Row {
        tool,
        cores,
        costs: vec![],
    };
    let mut rows = vec![
        row("patchgate ingest (SQLite)", "0,1"),
        row("patchgate ingest, again", "0,1"),
        row("patchgate ingest --threads 1", "0"),
        row("git mailsplit", "0"),
        row("python3 mailbox", "0"),
    ];
    for _ in 0..args.runs {
        let state = dir.join("state");
        let config = state.join("patchgate.toml");
        let fresh = || -> anyhow::Result<()> {
            let _ = std::fs::remove_dir_all(&state);
            std::fs::create_dir_all(&state)?;
            std::fs::write(&config, "")?;
            Ok(())
        };
        let ingest = |cores: &str, extra: &[&str]| {
            let mut c = measure::pinned_to(&patchgate, cores);
            c.arg("--config")
                .arg(&config)
                .arg("ingest")
                .args(extra)
                .arg(&mbox);
            c.stdout(Stdio::null());
            measure::run(&mut c)
        };
        fresh()?;
        rows[0].costs.push(ingest("0,1", &[])?);
        rows[1].costs.push(ingest("0,1", &[])?);
        fresh()?;
        rows[2].costs.push(ingest("0", &["--threads", "1"])?);

        let split = dir.join("mailsplit");
        let _ = std::fs::remove_dir_all(&split);
        std::fs::create_dir_all(&split)?;
        let mut c = measure::pinned(Path::new("git"));
        c.arg("mailsplit")
            .arg(format!("-o{}", split.display()))
            .arg(&mbox);
        c.stdout(Stdio::null());
        rows[3].costs.push(measure::run(&mut c)?);
        let _ = std::fs::remove_dir_all(&split);

        let mut c = measure::pinned(Path::new("python3"));
        c.arg("-c").arg(PY_MAILBOX).arg(&mbox).stderr(Stdio::null());
        rows[4].costs.push(measure::run(&mut c)?);
    }

    let n = stats.messages as f64;
    let base = median(&rows[0].costs, |c| c.wall.as_secs_f64());
    println!(
        "\n{:<30} {:>5} {:>9} {:>11} {:>8} {:>10} {:>14}",
        "tool (median)", "cores", "wall s", "msgs/s", "cpu s", "peak MB", "time vs ingest"
    );
    for r in &rows {
        let wall = median(&r.costs, |c| c.wall.as_secs_f64());
        let cpu = median(&r.costs, |c| c.cpu.as_secs_f64());
        let rss = median(&r.costs, |c| c.peak_rss as f64) / 1e6;
        println!(
            "{:<30} {:>5} {:>9.2} {:>11.0} {:>8.2} {:>10.1} {:>13.2}x",
            r.tool,
            r.cores,
            wall,
            n / wall,
            cpu,
            rss,
            wall / base
        );
    }
    Ok(())
}

fn median(costs: &[measure::Cost], f: impl Fn(&measure::Cost) -> f64) -> f64 {
    let mut v: Vec<f64> = costs.iter().map(f).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
