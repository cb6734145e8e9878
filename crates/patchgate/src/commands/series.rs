//! `patchgate series list|show|mbox|history`: what the store knows of series.

use crate::context::Context;
use crate::table::Table;
use anyhow::{anyhow, Context as _};
use patchgate_store::{SeriesFilter, SeriesRecord, State, Store};
use std::io::Write;
use std::path::Path;

/// Browse series: list, show, export as an am-ready mbox, history.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List series revisions, newest first.
    List(ListArgs),
    /// One series: its revision, patches and collected trailers.
    Show(ShowArgs),
    /// An am-ready mbox of the series with collected trailers applied, in
    /// order; pipe it to plain `git am`. Of an incomplete series, the
    /// patches received, with a warning naming the missing ones.
    Mbox(MboxArgs),
    /// The event log of a series: every step of its life, oldest first.
    History(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only series in this state (new, testing, tested-pass, superseded, ...).
    #[arg(long)]
    state: Option<State>,
    /// At most this many.
    #[arg(long)]
    limit: Option<usize>,
    /// JSON array of series objects (fields documented in the README).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Series id, the Message-ID of any of its mails, or topic:N for the
    /// newest revision of a topic.
    series: String,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct MboxArgs {
    /// Series id, the Message-ID of any of its mails, or topic:N.
    series: String,
    /// Write to this file instead of stdout.
    #[arg(short, long)]
    output: Option<std::path::PathBuf>,
}

pub fn run(cmd: Command, config: &Path) -> anyhow::Result<()> {
    let ctx = Context::open(config)?;
    match cmd {
        Command::List(a) => list(&ctx, a),
        Command::Show(a) => show(&ctx, a),
        Command::Mbox(a) => mbox(&ctx, a),
        Command::History(a) => history(&ctx, a),
    }
}

/// Resolve a user's series reference to an id, or say what would work.
pub fn resolve(store: &dyn Store, reference: &str) -> anyhow::Result<i64> {
    store.find_series(reference)?.ok_or_else(|| {
        anyhow!(
            "no series `{reference}`: give a series id, the Message-ID of one of its mails \
             or a lore link to one, or topic:N (see `patchgate series list`)"
        )
    })
}

fn list(ctx: &Context, a: ListArgs) -> anyhow::Result<()> {
    let mut series = ctx.store.list_series(&SeriesFilter {
        state: a.state,
        topic: None,
        limit: None,
    })?;
    series.sort_by(|x, y| y.date.cmp(&x.date).then(y.id.cmp(&x.id)));
    if let Some(n) = a.limit {
        series.truncate(n);
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&series)?);
        return Ok(());
    }
    let mut t = Table::new(&[
        "ID", "TOPIC", "VER", "PATCHES", "STATE", "DATE", "AUTHOR", "SUBJECT",
    ]);
    for s in &series {
        t.row(vec![
            s.id.to_string(),
            s.topic.to_string(),
            format!("v{}", s.version),
            patches_cell(s),
            state_cell(s),
            date(s.date),
            s.author.name.clone(),
            s.subject.clone(),
        ]);
    }
    print!("{}", t.render(60));
    println!("{} series", series.len());
    Ok(())
}

fn patches_cell(s: &SeriesRecord) -> String {
    if s.complete {
        s.total.to_string()
    } else {
        format!("{}/{}", s.received, s.total)
    }
}

fn state_cell(s: &SeriesRecord) -> String {
    patchgate_core::render::state_cell(s)
}

fn show(ctx: &Context, a: ShowArgs) -> anyhow::Result<()> {
    let id = resolve(ctx.store.as_ref(), &a.series)?;
    let d = ctx
        .store
        .series_detail(id)?
        .ok_or_else(|| anyhow!("series {id} vanished while reading it"))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
        return Ok(());
    }
    let revisions = ctx.store.topic_series(d.series.topic)?;
    print!("{}", patchgate_core::render::series(&d, &revisions));
    Ok(())
}

fn mbox(ctx: &Context, a: MboxArgs) -> anyhow::Result<()> {
    let id = resolve(ctx.store.as_ref(), &a.series)?;
    let d = ctx
        .store
        .series_detail(id)?
        .ok_or_else(|| anyhow!("series {id} vanished while reading it"))?;
    let out = patchgate_core::series_mbox::received_mbox(ctx.store.as_ref(), &d)?;
    let s = &d.series;
    if !s.missing.is_empty() {
        let missing: Vec<String> = s.missing.iter().map(u32::to_string).collect();
        let received: Vec<String> = d.patches.iter().map(|p| p.index.to_string()).collect();
        eprintln!(
            "warning: series {id} is incomplete: {} {} of {} not received; the mbox holds \
             only {} ({}), which may not apply without the missing ones",
            if missing.len() == 1 {
                "patch"
            } else {
                "patches"
            },
            missing.join(", "),
            s.total,
            super::plural(d.patches.len() as u64, "patch", "patches"),
            if received.is_empty() {
                "none".to_string()
            } else {
                received.join(", ")
            },
        );
    }
    match a.output {
        Some(path) => std::fs::write(&path, &out)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(&out)?,
    }
    eprintln!(
        "series {id}: {}, collected trailers applied",
        super::plural(d.patches.len() as u64, "patch", "patches")
    );
    Ok(())
}

fn history(ctx: &Context, a: ShowArgs) -> anyhow::Result<()> {
    let id = resolve(ctx.store.as_ref(), &a.series)?;
    let events = ctx.store.events(id)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&events)?);
        return Ok(());
    }
    for e in &events {
        let detail = match &e.event.detail {
            serde_json::Value::Null => String::new(),
            serde_json::Value::Object(m) if m.is_empty() => String::new(),
            v => v.to_string(),
        };
        println!(
            "{}  {:<14} {:<12} {}",
            date(Some(e.event.at)),
            e.event.kind,
            e.event.actor,
            detail
        );
    }
    Ok(())
}

/// `2022-08-11 18:52 UTC`, or `-` when unknown.
pub fn date(t: Option<i64>) -> String {
    patchgate_core::render::date(t)
}
