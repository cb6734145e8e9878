//! One file per subcommand. Each has an `Args` struct whose doc comments are
//! the help text, and a `run` function returning the exit code.

use std::path::Path;
use std::process::ExitCode;

mod demo;
mod ingest;
mod init;
mod jobs;
mod log;
mod policy;
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
    Log(log::Args),
    #[command(subcommand)]
    Policy(policy::Command),
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
        Command::Log(args) => log::run(args, config).map(|()| ExitCode::SUCCESS),
        Command::Policy(cmd) => policy::run(cmd, config).map(|()| ExitCode::SUCCESS),
        Command::Jobs(args) => jobs::run(args, config).map(|()| ExitCode::SUCCESS),
        Command::Sandbox(args) => sandbox::run(args),
    }
}

/// `n` with the noun in the number it takes: "1 message", "2 messages".
pub fn plural(n: impl TryInto<u64>, one: &str, many: &str) -> String {
    patchgate_core::render::plural(n, one, many)
}

/// Seconds since the Unix epoch: the binary is the clock for the library.
#[allow(clippy::disallowed_methods)] // the one place that reads the clock
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Jobs at once at most: each is a thread with its own worktree and
/// sandbox, and the machine's cores are the real bound; past this a typo
/// (`--jobs 5000`) would only spend memory on idle threads.
pub const MAX_JOBS: usize = 256;

/// `--jobs N` for N in `min..=MAX_JOBS`, with an error that says why.
pub fn jobs_parser(min: usize) -> impl Fn(&str) -> Result<usize, String> + Clone {
    move |s: &str| {
        let n: usize = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a number of jobs"))?;
        if n < min {
            return Err(format!("{n} is below {min}; give {min} or more jobs"));
        }
        if n > MAX_JOBS {
            return Err(format!(
                "{n} is not in {min}..={MAX_JOBS}; each job is a thread with its own worktree \
                 and sandbox, so more jobs than cores only wait (this machine has {})",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            ));
        }
        Ok(n)
    }
}
