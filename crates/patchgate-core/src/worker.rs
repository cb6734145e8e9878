//! Jobs: a test for every new revision, worked off by workers that hold a
//! lease on each job.
//!
//! A worker claims a job with a lease and renews it from a heartbeat thread
//! with its own store connection. A worker that dies (SIGKILL, a lost
//! machine) stops renewing; once the lease ends another worker claims the job
//! with a new fencing token, reuses the runs already recorded (runs are keyed
//! by commit and suite fingerprint) and finishes it. Only the holder of the
//! current token can record the job's result, so it is written once.

use crate::config::Config;
use crate::testing::{Clock, TestError, TestReport, Tester};
use patchgate_lifecycle::detail::{self, Detail};
use patchgate_store::{
    EventKind, JobFilter, JobRecord, JobStatus, NewJob, Recording, SeriesFilter, State, Store,
};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The kind of job that tests one series revision.
pub const TEST_SERIES: &str = "test-series";

/// Enqueue a test for every complete, open revision not yet tested and not
/// superseded, that a configured tree takes. The job's key covers the
/// revision's patch mails, so a revision tested once is not tested again
/// (a trailer that arrives later changes only the rules' part of a
/// verdict); one whose test stopped before its verdict gets a new key.
/// Returns the ids of the series scheduled now.
pub fn schedule(
    store: &mut dyn Store,
    config: &Config,
    now: i64,
) -> Result<Vec<i64>, patchgate_store::Error> {
    reschedule_stranded(store, now)?;
    let candidates = store.list_series(&SeriesFilter {
        state: Some(State::New),
        ..SeriesFilter::default()
    })?;
    let mut scheduled = Vec::new();
    for s in candidates {
        if !s.complete || s.superseded_by.is_some() {
            continue;
        }
        let Some(tree) = config.route(&s.tags) else {
            continue;
        };
        // A job given back to wait out a back-off is still its job.
        if has_live_job(store, s.id)? {
            continue;
        }
        let Some(detail) = store.series_detail(s.id)? else {
            continue;
        };
        let mut h = Sha256::new();
        for p in &detail.patches {
            h.update(p.message_id.as_bytes());
            h.update([0]);
        }
        // A test that stopped before its verdict is owed another job,
        // though its mails are the same: each `untested` event makes one.
        let untested = store
            .events(s.id)?
            .iter()
            .filter(|e| e.event.kind == EventKind::Untested)
            .count();
        let again = if untested == 0 {
            String::new()
        } else {
            format!(":again{untested}")
        };
        let mut job = NewJob::new(TEST_SERIES, tree.name.clone());
        job.series_id = Some(s.id);
        // The branch whose rules judge it, chosen now: the tree's first.
        job.payload = json!({ "branch": tree.branches.keys().next() });
        job.dedupe_key = Some(format!(
            "{TEST_SERIES}:{}:{}{again}",
            s.id,
            hex::encode(&h.finalize()[..8])
        ));
        if store.enqueue_job(&job, now)?.created {
            scheduled.push(s.id);
        }
    }
    Ok(scheduled)
}

/// Whether a job for `series` is queued or running: one that will test it.
fn has_live_job(store: &dyn Store, series: i64) -> Result<bool, patchgate_store::Error> {
    Ok(store
        .jobs(&JobFilter {
            series_id: Some(series),
            ..JobFilter::default()
        })?
        .iter()
        .any(|j| matches!(j.status, JobStatus::Queued | JobStatus::Running)))
}

/// Series left in `applying` or `testing` by a process that died (a crash,
/// SIGKILL, a power cut) with no job that will finish them: each gets an
/// `untested` event, which makes it new again and schedulable. A series is
/// left alone while a job for it is queued or running (the job's lease
/// covers it), or while the process named in its `applying` event lives,
/// or when that process is on another machine.
pub fn reschedule_stranded(
    store: &mut dyn Store,
    now: i64,
) -> Result<Vec<i64>, patchgate_store::Error> {
    let host = crate::testing::host_name();
    let mut stranded = Vec::new();
    for state in [State::Applying, State::Testing] {
        let series = store.list_series(&SeriesFilter {
            state: Some(state),
            ..SeriesFilter::default()
        })?;
        for s in series {
            if has_live_job(store, s.id)? {
                continue;
            }
            let events = store.events(s.id)?;
            let Some(applying) = events
                .iter()
                .rev()
                .find(|e| e.event.kind == EventKind::Applying)
            else {
                continue;
            };
            let detail = detail::Applying::read(&applying.event.detail);
            let same_host = detail.host.as_deref() == Some(host.as_str());
            let pid = detail.pid;
            let alive =
                pid.is_some_and(|p| std::path::Path::new("/proc").join(p.to_string()).exists());
            // Events written before the process was recorded: only the
            // job table can tell, and it has no live job for the series.
            let gone = match pid {
                Some(_) => same_host && !alive,
                None => true,
            };
            if !gone {
                continue;
            }
            let who = match pid {
                Some(p) => format!("{host}:{p}"),
                None => applying.event.actor.clone(),
            };
            let untested = detail::Untested {
                why: Some(format!(
                    "stranded in {}: the process that tested it ({who}) is gone",
                    state.as_str()
                )),
                retry: Some(true),
            };
            store.append_event(s.id, &untested.event(now, "patchgate"))?;
            stranded.push(s.id);
        }
    }
    Ok(stranded)
}

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Name in the job table and the event log.
    pub name: String,
    /// Seconds a claim lasts without a heartbeat.
    pub lease_secs: i64,
    /// Stop when no job is left instead of waiting for more.
    pub until_idle: bool,
    /// Seconds between looks for work when idle.
    pub poll: Duration,
}

/// One finished job, for summaries.
#[derive(Debug, Clone, Serialize)]
pub struct Done {
    pub job: i64,
    pub series: Option<i64>,
    pub report: Option<TestReport>,
    /// Why the job did not finish (it is queued again or failed).
    pub error: Option<String>,
    /// The job failed for good: every attempt spent, or an error no retry
    /// can mend.
    pub failed: bool,
}

/// Opens a store connection for a thread (each thread needs its own); the
/// error is the explanation to show.
pub type OpenStore<'a> = &'a (dyn Fn() -> Result<Box<dyn Store>, String> + Sync);

/// Why a worker stopped before it was told to: not a job's failure (those
/// are given back or failed in the job table), but the store's.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error("cannot open the store: {0}")]
    Open(String),
    #[error(transparent)]
    Store(#[from] patchgate_store::Error),
    #[error("a worker thread panicked")]
    Panicked,
}

/// Why a job did not give its answer.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Test(#[from] TestError),
    #[error("job {job} has kind `{kind}`, which no handler of this worker runs")]
    UnknownKind { job: i64, kind: String },
    #[error("job {job} is malformed: {why}")]
    Malformed { job: i64, why: String },
}

impl JobError {
    /// Worth another try later (git, the sandbox, the disk failed).
    pub fn is_transient(&self) -> bool {
        matches!(self, JobError::Test(e) if e.is_transient())
    }

    /// The worker was stopped while it ran.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, JobError::Test(e) if e.is_interrupted())
    }
}

/// A job's answer: its outcome for the job table, what it records (written
/// in the same transaction as the job's end), and the report to show.
#[derive(Debug)]
pub struct Answer {
    pub outcome: serde_json::Value,
    pub recording: Option<Recording>,
    pub report: Option<TestReport>,
}

/// What one kind of job does. A handler does the work and says what to
/// record; the worker holds the lease, writes the answer with the job's end
/// in one transaction, and gives the job back on an error.
pub trait Handler: Sync {
    /// The kind it runs, as stored in the job table.
    fn kind(&self) -> &'static str;
    fn run(&self, store: &mut dyn Store, job: &JobRecord) -> Result<Answer, JobError>;
}

/// `test-series`: apply and test one revision in the tree and for the
/// branch the scheduler chose.
#[derive(Debug)]
pub struct TestSeries<'a> {
    pub tester: Tester<'a>,
}

impl Handler for TestSeries<'_> {
    fn kind(&self) -> &'static str {
        TEST_SERIES
    }

    fn run(&self, store: &mut dyn Store, job: &JobRecord) -> Result<Answer, JobError> {
        let series = job.series_id.ok_or_else(|| JobError::Malformed {
            job: job.id,
            why: "a test-series job names no series".into(),
        })?;
        let branch = job.payload.get("branch").and_then(|b| b.as_str());
        let report = self
            .tester
            .test_in(store, series, Some(&job.tree), branch)?;
        Ok(Answer {
            outcome: json!({"verdict": report.verdict.verdict, "series": report.series}),
            recording: Some(self.tester.recording(&report)),
            report: Some(report),
        })
    }
}

/// The job kinds a worker runs.
#[derive(Default)]
pub struct Registry<'a> {
    handlers: Vec<Box<dyn Handler + 'a>>,
}

impl std::fmt::Debug for Registry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<&str> = self.handlers.iter().map(|h| h.kind()).collect();
        f.debug_struct("Registry").field("kinds", &kinds).finish()
    }
}

impl<'a> Registry<'a> {
    pub fn with(mut self, handler: impl Handler + 'a) -> Self {
        self.handlers.push(Box::new(handler));
        self
    }

    fn get(&self, kind: &str) -> Option<&(dyn Handler + 'a)> {
        self.handlers
            .iter()
            .find(|h| h.kind() == kind)
            .map(|h| h.as_ref())
    }
}

/// Claim and run jobs until `stop` is set, or until idle with `until_idle`;
/// each finished job is handed to `done` as it ends, so a worker's memory
/// does not grow with the jobs it has run. Returns how many it ran.
pub fn work(
    open: OpenStore<'_>,
    registry: &Registry<'_>,
    clock: &dyn Clock,
    options: &WorkerOptions,
    stop: &AtomicBool,
    done: &(dyn Fn(Done) + Sync),
) -> Result<u64, WorkError> {
    let mut store = open().map_err(WorkError::Open)?;
    let mut count = 0;
    while !stop.load(Ordering::Relaxed) {
        let claimed = store.claim_job(&options.name, options.lease_secs, clock.now())?;
        let Some(job) = claimed else {
            // Idle means nothing queued and nothing running: a job held by
            // a worker that may have died is waited for, and claimed once
            // its lease ends.
            if options.until_idle && !busy(store.as_ref(), clock.now())? {
                break;
            }
            std::thread::sleep(options.poll);
            continue;
        };
        done(run_job(
            open,
            store.as_mut(),
            registry,
            clock,
            options,
            &job,
        )?);
        count += 1;
    }
    Ok(count)
}

/// `threads` workers over one store until idle or stopped, named `name`
/// (`name#i` when there are several); `done` sees every finished job.
pub fn pool<'a>(
    open: OpenStore<'_>,
    registry: &(dyn Fn(String) -> Registry<'a> + Sync),
    clock: &(dyn Clock + Sync),
    options: &WorkerOptions,
    threads: usize,
    stop: &AtomicBool,
    done: &(dyn Fn(Done) + Sync),
) -> Result<u64, WorkError> {
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|i| {
                scope.spawn(move || {
                    let name = if threads > 1 {
                        format!("{}#{i}", options.name)
                    } else {
                        options.name.clone()
                    };
                    let registry = registry(name.clone());
                    let options = WorkerOptions {
                        name,
                        ..options.clone()
                    };
                    work(open, &registry, clock, &options, stop, done)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(WorkError::Panicked)))
            .collect::<Vec<_>>()
    });
    let mut total = 0;
    for r in results {
        total += r?;
    }
    Ok(total)
}

/// Whether any job is running, or queued and due by `now`. A job given
/// back to wait out a back-off is not waited for: the next worker (or the
/// next `patchgate run`) takes it when it is due.
fn busy(store: &dyn Store, now: i64) -> Result<bool, patchgate_store::Error> {
    let running = JobFilter {
        status: Some(JobStatus::Running),
        limit: Some(1),
        ..JobFilter::default()
    };
    if !store.jobs(&running)?.is_empty() {
        return Ok(true);
    }
    let queued = JobFilter {
        status: Some(JobStatus::Queued),
        ..JobFilter::default()
    };
    Ok(store
        .jobs(&queued)?
        .iter()
        .any(|j| j.not_before.is_none_or(|t| t <= now)))
}

/// How long a job waits before its next attempt after a failure of the
/// machine's: 30 s, then doubling, at most an hour.
pub fn backoff_secs(attempts: u32) -> i64 {
    let doublings = attempts.saturating_sub(1).min(7);
    (30i64 << doublings).min(3600)
}

/// Run one claimed job while a heartbeat keeps its lease.
fn run_job(
    open: OpenStore<'_>,
    store: &mut dyn Store,
    registry: &Registry<'_>,
    clock: &dyn Clock,
    options: &WorkerOptions,
    job: &JobRecord,
) -> Result<Done, WorkError> {
    let finished = Arc::new(AtomicBool::new(false));
    let lost = Arc::new(AtomicBool::new(false));
    let mut beat_store = open().map_err(WorkError::Open)?;
    let result = std::thread::scope(|scope| {
        let (finished2, lost2) = (finished.clone(), lost.clone());
        let every = Duration::from_secs((options.lease_secs / 3).max(1) as u64);
        scope.spawn(move || {
            let mut waited = Duration::ZERO;
            while !finished2.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                waited += Duration::from_millis(100);
                if waited < every {
                    continue;
                }
                waited = Duration::ZERO;
                if beat_store
                    .heartbeat(job.id, job.token, clock.now())
                    .is_err()
                {
                    lost2.store(true, Ordering::Relaxed);
                    break;
                }
            }
        });
        let result = match registry.get(&job.kind) {
            Some(handler) => handler.run(store, job),
            None => Err(JobError::UnknownKind {
                job: job.id,
                kind: job.kind.clone(),
            }),
        };
        finished.store(true, Ordering::Relaxed);
        result
    });
    if lost.load(Ordering::Relaxed) {
        tracing::warn!(
            job = job.id,
            "lease lost while running; another worker took the job over"
        );
    }
    let answer = match result {
        Ok(answer) => answer,
        Err(e) => {
            // Not the job's answer: git, the sandbox or the disk failed, or
            // the worker was stopped. Given back to be tried again later
            // while attempts remain (an interrupted one at once), failed
            // for good otherwise.
            let now = clock.now();
            let retry_at = if e.is_interrupted() {
                Some(now)
            } else if e.is_transient() {
                Some(now + backoff_secs(job.attempts))
            } else {
                None
            };
            let error = e.to_string();
            let status = match store.give_back_job(
                job.id,
                job.token,
                &json!({"error": error, "retry_at": retry_at}),
                retry_at,
                now,
            ) {
                Ok(status) => Some(status),
                Err(patchgate_store::Error::LeaseLost { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            tracing::warn!(job = job.id, status = ?status, "job did not finish: {error}");
            return Ok(Done {
                job: job.id,
                series: job.series_id,
                report: None,
                error: Some(error),
                failed: status == Some(JobStatus::Failed),
            });
        }
    };
    // The job's end, the verdict and its events in one transaction: a
    // crash leaves either all of them or a job still leased, which runs
    // again (reusing its stored runs) once the lease ends.
    let Answer {
        outcome,
        recording,
        report,
    } = answer;
    let error: Option<String> = None;
    match store.finish_job_recording(job.id, job.token, &outcome, recording.as_ref(), clock.now()) {
        Ok(()) => {}
        Err(patchgate_store::Error::LeaseLost { .. }) => {
            // Another worker holds the job now; its result is the one kept.
            return Ok(Done {
                job: job.id,
                series: job.series_id,
                report: None,
                error: Some("lease lost".into()),
                failed: false,
            });
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Done {
        job: job.id,
        series: job.series_id,
        report,
        error,
        failed: false,
    })
}
