//! `patchgate sandbox`: which of the sandbox's protections hold on this machine.

use std::process::ExitCode;

/// Say which of the sandbox's protections hold on this machine: isolation
/// (bubblewrap namespaces), memory and process limits (cgroups), wall time
/// and output caps. Exits 1 when any is not enforced.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    let sandbox = crate::context::sandbox()?;
    let caps = sandbox.capabilities();
    println!("{}", caps.summary().trim_end());
    Ok(if caps.enforced().all() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
