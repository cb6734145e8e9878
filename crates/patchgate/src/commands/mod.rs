//! One file per subcommand. Each has an `Args` struct whose doc comments are
//! the help text, and a `run` function returning the exit code.

use std::path::Path;
use std::process::ExitCode;

mod demo;
mod ingest;
mod init;
mod jobs;
mod run;
mod sandbox;
mod series;
mod test;
mod worker;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Demo(demo::Args),
    Init(init::Args),
    Ingest(ingest::Args),
    #[command(subcommand)]
    Series(series::Command),
    Test(test::Args),
    Run(run::Args),
    Worker(worker::Args),
    Jobs(jobs::Args),
    Sandbox(sandbox::Args),
}

/// Run one subcommand with the configuration file named on the command line.
pub fn run(command: Command, config: &Path) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo(args) => demo::run(args),
        Command::Init(args) => init::run(args).map(|()| ExitCode::SUCCESS),
        Command::Ingest(args) => ingest::run(args, config).map(|()| ExitCode::SUCCESS),
        Command::Series(cmd) => series::run(cmd, config).map(|()| ExitCode::SUCCESS),
        Command::Test(args) => test::run(args, config),
        Command::Run(args) => run::run(args, config),
        Command::Worker(args) => worker::run(args, config).map(|()| ExitCode::SUCCESS),
        Command::Jobs(args) => jobs::run(args, config).map(|()| ExitCode::SUCCESS),
        Command::Sandbox(args) => sandbox::run(args),
    }
}

/// `n` with the noun in the number it takes: "1 message", "2 messages".
pub fn plural(n: impl TryInto<u64>, one: &str, many: &str) -> String {
    let n: u64 = n.try_into().unwrap_or(u64::MAX);
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Seconds since the Unix epoch: the binary is the clock for the library.
#[allow(clippy::disallowed_methods)] // the one place that reads the clock
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
