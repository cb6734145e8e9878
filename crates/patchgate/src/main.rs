//! The `patchgate` binary: command-line parsing, configuration, printing and
//! exit codes. Each subcommand lives in its own file under `commands/`; the
//! work itself is done by the library crates, which never print.
//!
//! Exit codes: 0 success; 1 the command ran and its answer is "no" (a failing
//! verdict, an audit with unproven commits); 2 the command could not run
//! (bad configuration, unreadable source, unknown series).

use clap::Parser;
use std::process::ExitCode;

mod commands;
mod context;
mod table;

/// Test-gated patch lifecycle for trees that take their patches by email.
#[derive(Debug, Parser)]
#[command(name = "patchgate", version, about, long_about = None)]
struct Cli {
    /// The configuration file; the state directory sits beside it.
    #[arg(
        long,
        global = true,
        default_value = "patchgate.toml",
        env = "PATCHGATE_CONFIG"
    )]
    config: std::path::PathBuf,

    /// More detail on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    let filter = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PATCHGATE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a log
        // file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
    match commands::run(cli.command, &cli.config) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Die quietly when the reader of our output goes away (`patchgate series
/// list | head`), as command-line tools do, instead of failing to print.
/// Rust ignores SIGPIPE by default, which turns it into a print panic.
#[allow(unsafe_code)]
fn restore_sigpipe() {
    // SAFETY: setting a signal's disposition to SIG_DFL at the start of
    // main, before any thread exists, has no memory-safety requirement.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
