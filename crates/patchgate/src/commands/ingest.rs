//! `patchgate ingest SOURCE...`: read mail into the store and assemble series.

use crate::context::Context;
use indicatif::{ProgressBar, ProgressStyle};
use patchgate_core::ingest::{self, Ingester, Progress, SourceRef, Summary};
use std::path::Path;
use std::time::{Duration, Instant};

/// Read mail from mbox files, Maildirs, public-inbox archives or stdin.
///
/// Each SOURCE is an mbox file (mboxo or mboxrd, gzipped or not, also a pipe
/// such as <(zcat list.mbox.gz)), a Maildir (a folder with cur/ and new/), a
/// public-inbox v2 archive (the folder holding git/0.git, git/1.git, ...; a
/// second run reads only new commits), or `-` for stdin: an mbox when it
/// starts with a `From ` line (`cat list.mbox | patchgate ingest -`), else
/// one message as an MTA pipes it. Reading the same mail twice changes
/// nothing. Messages that cannot be used (not mail, over 64 MiB, a Maildir
/// entry that is no file) are reported with their reason and counted;
/// ingest fails only when a source cannot be read at all.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// mbox file (.gz too), Maildir, public-inbox archive, or - for stdin.
    #[arg(required = true)]
    sources: Vec<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Threads that parse mail (default: one per core). The stored mail
    /// and the series are the same whatever the number; 1 parses between
    /// reads and writes on one thread.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
}

pub fn run(args: Args, config: &Path) -> anyhow::Result<()> {
    let mut ctx = Context::open(config)?;
    let sources = args
        .sources
        .iter()
        .map(|s| ingest::detect(s))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    let threads = args.threads.map(usize::from);
    let summary = ingest_sources(&mut ctx, &sources, threads)?;
    let elapsed = started.elapsed();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary, elapsed);
    }
    Ok(())
}

/// Ingest `sources` with a progress bar on a terminal, then assemble series;
/// `threads` parse (default: one per core).
pub fn ingest_sources(
    ctx: &mut Context,
    sources: &[SourceRef],
    threads: Option<usize>,
) -> anyhow::Result<Summary> {
    let mut bar = Bar::default();
    let mut ingester = Ingester::new(ctx.store.as_mut(), &mut bar)
        .threads(threads.unwrap_or_else(ingest::default_threads));
    // A source that fails part way (a gzip file cut short) keeps what was
    // read before the fault, and the other sources are still read: the
    // mail is assembled before the failure is reported.
    let mut failed = Vec::new();
    for s in sources {
        if let Err(e) = ingester.ingest(s) {
            failed.push(anyhow::Error::from(e));
        }
    }
    let summary = ingester.finish(super::now())?;
    let Some(first) = failed.pop() else {
        return Ok(summary);
    };
    for e in &failed {
        eprintln!("error: {e:#}");
    }
    if summary.read == 0 {
        return Err(first);
    }
    Err(first.context(format!(
        "{} read and stored before this failure",
        super::plural(summary.read, "message", "messages")
    )))
}

/// Human summary on stdout.
pub fn print_summary(s: &Summary, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.read as f64 / secs
    } else {
        0.0
    };
    println!(
        "read {} in {:.2}s ({:.0}/s): {} new, {} already stored, {} unusable",
        super::plural(s.read, "message", "messages"),
        secs,
        rate,
        s.new,
        s.duplicates,
        s.unusable.len()
    );
    println!(
        "series: {} in store, {} new, {} updated, {} superseded",
        s.series_total, s.series_new, s.series_updated, s.series_superseded
    );
    for u in &s.unusable {
        match &u.message_id {
            Some(id) => println!("  unusable {id} ({}): {}", u.source, u.reason),
            None => println!("  unusable {}: {}", u.source, u.reason),
        }
    }
}

/// An indicatif bar on stderr; hidden when stderr is not a terminal.
#[derive(Debug, Default)]
struct Bar {
    bar: Option<ProgressBar>,
    messages: u64,
}

impl Progress for Bar {
    fn start(&mut self, source: &SourceRef, bytes: Option<u64>) {
        let bar = match bytes {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template(
                    "{prefix} {wide_bar} {bytes}/{total_bytes} {msg} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{prefix} {spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_prefix(source.label());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.messages = 0;
        self.bar = Some(bar);
    }

    fn advance(&mut self, messages: u64, bytes: u64) {
        let before = self.messages;
        self.messages += messages;
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
            // The text is redrawn a few times a second; formatting it for
            // every one of tens of thousands of mails would be wasted.
            if before / 256 == self.messages / 256 {
                return;
            }
            let secs = bar.elapsed().as_secs_f64();
            let rate = if secs > 0.0 {
                self.messages as f64 / secs
            } else {
                0.0
            };
            let read = super::plural(self.messages, "message", "messages");
            bar.set_message(format!("{read}, {rate:.0} msg/s"));
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
