//! `patchgate init [DIR]`: a commented `patchgate.toml` and a state directory.

use anyhow::{bail, Context as _};
use std::path::PathBuf;

/// Create a commented patchgate.toml and a state directory.
///
/// Nothing is overwritten: an existing patchgate.toml is left as it is.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to set up (created if missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
}

const TEMPLATE: &str = include_str!("../../templates/patchgate.toml");

pub fn run(args: Args) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let file = args.dir.join("patchgate.toml");
    if file.exists() {
        bail!(
            "{} exists already; edit it, or init another folder",
            file.display()
        );
    }
    std::fs::write(&file, TEMPLATE).with_context(|| format!("cannot write {}", file.display()))?;
    let state = args.dir.join(".patchgate");
    std::fs::create_dir_all(&state)
        .with_context(|| format!("cannot create {}", state.display()))?;
    println!("wrote {}", file.display());
    println!("state directory {}", state.display());
    println!("next: add a [[source]] and a [tree.NAME], then `patchgate ingest`");
    Ok(())
}
