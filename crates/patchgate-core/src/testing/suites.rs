//! Running one suite on one commit, in the sandbox, with retries; and the
//! runs shared through the store.
//!
//! A run is keyed by (commit, suite fingerprint), so the base's runs are
//! made once and shared by every series on that base, and a series tested
//! again (or a job taken over after its worker died) reuses the attempts
//! already recorded and only makes the ones still missing.

use patchgate_gate::{wants_retry, RunOutcome, SuiteRun};
use patchgate_results::{Format, Parsed};
use patchgate_sandbox::{Limit, Sandbox, Spec};
use patchgate_store::{Run, Store, TestOutcome};
use sha2::{Digest, Sha256};
use std::path::Path;

use super::TestError;
use crate::config::Suite;

/// Identifies everything about a suite that can change its results, so a
/// changed command or limit never reuses old runs. The name is part of it:
/// results are named after the suite (an exit-code suite reports one test
/// of its own name), so two suites alike in all else are still two.
pub fn fingerprint(suite: &Suite) -> String {
    let mut h = Sha256::new();
    let mut field = |k: &str, v: &str| {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    };
    field("name", &suite.name);
    field("run", &suite.run);
    field("format", &suite.format.to_string());
    field("workdir", &suite.workdir);
    field("timeout", &suite.timeout.as_millis().to_string());
    field("memory", &suite.memory.to_string());
    field("processes", &suite.processes.to_string());
    field("output", &suite.output.to_string());
    field("disk", &suite.disk.to_string());
    field("tmp", &suite.tmp.to_string());
    for (k, v) in &suite.env {
        field(k, v);
    }
    hex::encode(&h.finalize()[..10])
}

/// `pass`, `fail`, `timeout` or `error`, as stored with each run.
fn status_word(run: &SuiteRun) -> &'static str {
    match &run.outcome {
        RunOutcome::Finished { exit_code: Some(0) } if !run.parsed.has_failure() => "pass",
        RunOutcome::Finished { .. } => "fail",
        RunOutcome::Timeout { .. } => "timeout",
        RunOutcome::Error { .. } | RunOutcome::LimitHit { .. } => "error",
    }
}

/// The attempts of `suite` on `commit`: those stored, plus new ones made in
/// `workdir` while a retry can still tell something; `base` holds the base
/// commit's attempts when `commit` is a series' (see [`wants_retry`]).
#[allow(clippy::too_many_arguments)]
pub fn runs(
    store: &mut dyn Store,
    sandbox: &Sandbox,
    name: &str,
    suite: &Suite,
    commit: &str,
    workdir: &mut dyn FnMut() -> Result<std::path::PathBuf, TestError>,
    now: &dyn Fn() -> i64,
    base: Option<&[SuiteRun]>,
) -> Result<Vec<SuiteRun>, TestError> {
    let fp = fingerprint(suite);
    let mut stored = store.runs_for(commit, &fp)?;
    stored.sort_by_key(|r| r.run.attempt);
    // A stored run whose detail cannot be read any more still counts as an
    // attempt made, and its number is never used again.
    let mut made = stored.len();
    let mut next_attempt = stored.last().map_or(1, |r| r.run.attempt + 1);
    let mut runs: Vec<SuiteRun> = stored
        .iter()
        .filter_map(|r| serde_json::from_value(r.run.detail.clone()).ok())
        .collect();
    let max = 1 + suite.retries as usize;
    while made < max && (runs.is_empty() || wants_retry(&runs, base)) {
        let dir = workdir()?;
        let started = now();
        let (run, output, ms) = execute(sandbox, name, suite, commit, &dir)?;
        let attempt = next_attempt;
        next_attempt += 1;
        made += 1;
        store.record_run(&Run {
            commit: commit.to_string(),
            suite: name.to_string(),
            fingerprint: fp.clone(),
            attempt,
            status: status_word(&run).to_string(),
            started,
            duration_ms: ms,
            output,
            tests: run
                .parsed
                .tests
                .iter()
                .map(|t| TestOutcome {
                    name: t.name.clone(),
                    status: t.status.to_string(),
                })
                .collect(),
            detail: serde_json::to_value(&run).unwrap_or_default(),
        })?;
        runs.push(run);
    }
    Ok(runs)
}

/// One attempt: the suite's command in the sandbox, its output parsed.
fn execute(
    sandbox: &Sandbox,
    name: &str,
    suite: &Suite,
    commit: &str,
    worktree: &Path,
) -> Result<(SuiteRun, String, u64), TestError> {
    let mut env = vec![
        ("PATCHGATE_SUITE".to_string(), name.to_string()),
        ("PATCHGATE_COMMIT".to_string(), commit.to_string()),
    ];
    env.extend(suite.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let spec = Spec {
        command: suite.run.clone(),
        workdir: worktree.to_path_buf(),
        subdir: Path::new(&suite.workdir).to_path_buf(),
        env,
        wall_time: suite.timeout,
        memory_bytes: suite.memory,
        max_processes: u64::from(suite.processes),
        max_output_bytes: usize::try_from(suite.output).unwrap_or(usize::MAX),
        max_disk_bytes: suite.disk,
        max_tmp_bytes: suite.tmp,
    };
    let outcome = match sandbox.run(&spec) {
        Ok(o) => o,
        // A working folder the tree does not have, or one the series made a
        // symlink out of the tree, is the series' doing (or the
        // configuration's): a run that errors, not a crash of ours.
        Err(patchgate_sandbox::Error::Path(refused)) => {
            let message = format!("the suite's workdir cannot be used: {refused}");
            let run = SuiteRun {
                outcome: RunOutcome::Error {
                    message: message.clone(),
                },
                parsed: Parsed {
                    tests: vec![],
                    complete: false,
                    problems: vec![message.clone()],
                },
            };
            return Ok((run, message, 0));
        }
        Err(e) => return Err(TestError::Sandbox(e)),
    };
    let exit_code = match outcome.status {
        patchgate_sandbox::Status::Exited(c) => Some(c),
        patchgate_sandbox::Status::Signaled(_) => None,
    };
    let run_outcome = match outcome.limit_hit {
        Some(Limit::WallTime) => RunOutcome::Timeout {
            limit: humantime::format_duration(suite.timeout).to_string(),
        },
        Some(Limit::Memory) => RunOutcome::LimitHit {
            limit: format!(
                "memory ({}; the private /tmp is in memory and counts against it)",
                humanize_bytes(suite.memory)
            ),
        },
        Some(Limit::Disk) => RunOutcome::LimitHit {
            limit: format!(
                "disk ({} written into the worktree at most)",
                humanize_bytes(suite.disk)
            ),
        },
        Some(Limit::Processes) => RunOutcome::LimitHit {
            limit: "process".into(),
        },
        Some(Limit::Output) => RunOutcome::LimitHit {
            limit: "output".into(),
        },
        None => RunOutcome::Finished { exit_code },
    };
    let parsed = match &suite.format {
        Format::Junit { path } => match patchgate_sandbox::inside::read_file(
            worktree,
            &Path::new(&suite.workdir).join(path),
            JUNIT_LIMIT,
        ) {
            Ok(xml) => patchgate_results::parse(&suite.format, name, exit_code, &xml),
            Err(why) => Parsed {
                tests: vec![],
                complete: false,
                problems: vec![format!("JUnit report {path}: {why}")],
            },
        },
        f => patchgate_results::parse(f, name, exit_code, &outcome.output),
    };
    let text = String::from_utf8_lossy(&outcome.output).into_owned();
    let ms = u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX);
    Ok((
        SuiteRun {
            outcome: run_outcome,
            parsed,
        },
        text,
        ms,
    ))
}

/// A JUnit report larger than this is not read: it is the suite's output,
/// and a suite could leave a file of any size.
const JUNIT_LIMIT: u64 = 64 << 20;

/// `2 GiB`, `512 MiB`: how a limit reads in a report.
fn humanize_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 => format!("{} MiB", n >> 20),
        n => format!("{n} bytes"),
    }
}
