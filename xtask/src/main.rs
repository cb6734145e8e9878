//! Project automation that is easier to keep right in Rust than in shell:
//! the benchmarks and the synthetic corpora they run on.
//!
//! `cargo xtask bench-ingest` builds a corpus of real-shaped patch mail and
//! measures `patchgate ingest` into SQLite side by side with `git mailsplit`
//! and Python's `mailbox` over the same file; `cargo xtask bench-job` measures
//! what one test job costs beyond its suites' own time; `cargo xtask
//! replay-kut` replays the 2022 kvmarm archive against the real
//! kvm-unit-tests tree and checks every series upstream merged is applied.

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

use clap::Parser;

mod bench_ingest;
mod bench_job;
mod corpus;
mod measure;
mod replay_kut;

#[derive(Debug, Parser)]
#[command(name = "xtask")]
enum Task {
    /// Measure whole `patchgate ingest` against git mailsplit and Python's mailbox.
    BenchIngest(bench_ingest::Args),
    /// Measure one `patchgate test` job's overhead against git am and the sandbox's start-up.
    BenchJob(bench_job::Args),
    /// Write a synthetic corpus of patch mail as an mbox.
    Corpus(corpus::Args),
    /// Replay the kvmarm archive against kvm-unit-tests: is every series upstream merged really applied?
    ReplayKut(replay_kut::Args),
}

fn main() -> anyhow::Result<()> {
    match Task::parse() {
        Task::BenchIngest(args) => bench_ingest::run(args),
        Task::BenchJob(args) => bench_job::run(args),
        Task::Corpus(args) => corpus::run(args),
        Task::ReplayKut(args) => replay_kut::run(args),
    }
}
