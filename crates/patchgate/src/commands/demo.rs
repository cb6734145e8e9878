//! `patchgate demo`: the bundled example, end to end, in a temporary folder.
use std::process::ExitCode;

/// Run the bundled example end to end on an embedded SQLite store.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the demo is not built yet")
}
