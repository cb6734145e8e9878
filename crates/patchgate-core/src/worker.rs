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
use patchgate_store::{JobFilter, JobRecord, JobStatus, NewJob, SeriesFilter, State, Store};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The kind of job that tests one series revision.
pub const TEST_SERIES: &str = "test-series";

/// Enqueue a test for every complete, open revision not yet tested and not
/// superseded, that a configured tree takes. A revision that changed since
/// (a patch or a trailer arrived) gets a new job: the key covers its mails.
/// Returns the ids of the series scheduled now.
pub fn schedule(
    store: &mut dyn Store,
    config: &Config,
    now: i64,
) -> Result<Vec<i64>, patchgate_store::Error> {
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
        let Some(detail) = store.series_detail(s.id)? else {
            continue;
        };
        let mut h = Sha256::new();
        for p in &detail.patches {
            h.update(p.message_id.as_bytes());
            h.update([0]);
        }
        let mut job = NewJob::new(TEST_SERIES, tree.name.clone());
        job.series_id = Some(s.id);
        job.dedupe_key = Some(format!(
            "{TEST_SERIES}:{}:{}",
            s.id,
            hex::encode(&h.finalize()[..8])
        ));
        if store.enqueue_job(&job, now)?.created {
            scheduled.push(s.id);
        }
    }
    Ok(scheduled)
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
    pub error: Option<String>,
}

/// Opens a store connection for a thread (each thread needs its own); the
/// error is the explanation to show.
pub type OpenStore<'a> = &'a (dyn Fn() -> Result<Box<dyn Store>, String> + Sync);

/// Claim and run jobs until `stop` is set, or until idle with `until_idle`.
pub fn work(
    open: OpenStore<'_>,
    tester: &Tester<'_>,
    clock: &dyn Clock,
    options: &WorkerOptions,
    stop: &AtomicBool,
) -> Result<Vec<Done>, String> {
    let mut store = open()?;
    let mut done = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let claimed = store
            .claim_job(&options.name, options.lease_secs, clock.now())
            .map_err(|e| e.to_string())?;
        let Some(job) = claimed else {
            // Idle means nothing queued and nothing running: a job held by
            // a worker that may have died is waited for, and claimed once
            // its lease ends.
            if options.until_idle && !busy(store.as_ref()).map_err(|e| e.to_string())? {
                break;
            }
            std::thread::sleep(options.poll);
            continue;
        };
        done.push(run_job(open, store.as_mut(), tester, clock, options, &job)?);
    }
    Ok(done)
}

/// Whether any job is queued or running.
fn busy(store: &dyn Store) -> Result<bool, patchgate_store::Error> {
    for status in [JobStatus::Queued, JobStatus::Running] {
        let filter = JobFilter {
            status: Some(status),
            limit: Some(1),
            ..JobFilter::default()
        };
        if !store.jobs(&filter)?.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Run one claimed job while a heartbeat keeps its lease.
fn run_job(
    open: OpenStore<'_>,
    store: &mut dyn Store,
    tester: &Tester<'_>,
    clock: &dyn Clock,
    options: &WorkerOptions,
    job: &JobRecord,
) -> Result<Done, String> {
    let finished = Arc::new(AtomicBool::new(false));
    let lost = Arc::new(AtomicBool::new(false));
    let mut beat_store = open()?;
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
        let result = match (job.kind.as_str(), job.series_id) {
            (TEST_SERIES, Some(series)) => tester.test(store, series, None),
            (kind, _) => Err(TestError::Policy {
                tree: job.tree.clone(),
                errors: format!(
                    "job {} has kind `{kind}`, which this worker does not run",
                    job.id
                ),
            }),
        };
        finished.store(true, Ordering::Relaxed);
        result
    });
    let (outcome, report, error) = match result {
        Ok(r) => (
            json!({"verdict": r.verdict.verdict, "series": r.series}),
            Some(r),
            None,
        ),
        Err(e) => (json!({"error": e.to_string()}), None, Some(e.to_string())),
    };
    if lost.load(Ordering::Relaxed) {
        tracing::warn!(
            job = job.id,
            "lease lost while running; another worker took the job over"
        );
    }
    match store.finish_job(job.id, job.token, &outcome, clock.now()) {
        Ok(()) => {
            if let Some(r) = &report {
                tester.record(store, r).map_err(|e| e.to_string())?;
            }
        }
        Err(patchgate_store::Error::LeaseLost { .. }) => {
            // Another worker holds the job now; its result is the one kept.
            return Ok(Done {
                job: job.id,
                series: job.series_id,
                report: None,
                error: Some("lease lost".into()),
            });
        }
        Err(e) => return Err(e.to_string()),
    }
    Ok(Done {
        job: job.id,
        series: job.series_id,
        report,
        error,
    })
}
