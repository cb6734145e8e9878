//! Values for the test stage: jobs with leases, runs, verdicts.
//!
//! A job is handed to one worker at a time under a lease; every claim bumps
//! the job's fencing token, and only the holder of the current token may
//! extend the lease or write the outcome, so a worker that stalled past its
//! lease cannot overwrite the result of the worker that took over.
//!
//! A run is one execution of one suite on one commit, identified by
//! (commit, suite fingerprint, attempt): the baseline run of a base commit is
//! shared by every series on that base, and storing the same run twice keeps
//! it once.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Runs keep at most this many bytes of output: the head and the tail,
/// where a failing suite says why.
pub const OUTPUT_CAP: usize = 256 * 1024;

/// A job to queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// `test-series`, `baseline`, …
    pub kind: String,
    pub series_id: Option<i64>,
    pub tree: String,
    /// Full commit id, when the job is about one commit.
    pub commit: Option<String>,
    pub suite: Option<String>,
    /// Whatever else the worker needs.
    pub payload: Value,
    /// Jobs with the same key are one job. `None` derives it from kind,
    /// tree, series, commit and suite; a caller that wants a second run of
    /// the same thing (a series that gained a patch) puts what changed in
    /// its own key.
    pub dedupe_key: Option<String>,
    /// Claims after which an expired lease fails the job instead of handing
    /// it out again (a job that kills its worker must not loop forever).
    pub max_attempts: u32,
}

impl NewJob {
    /// A job with no payload, the derived dedupe key and three attempts.
    pub fn new(kind: impl Into<String>, tree: impl Into<String>) -> Self {
        NewJob {
            kind: kind.into(),
            series_id: None,
            tree: tree.into(),
            commit: None,
            suite: None,
            payload: Value::Null,
            dedupe_key: None,
            max_attempts: 3,
        }
    }

    /// The dedupe key this job is stored under.
    pub fn effective_dedupe_key(&self) -> String {
        if let Some(key) = &self.dedupe_key {
            return key.clone();
        }
        let series = self.series_id.map(|s| s.to_string()).unwrap_or_default();
        format!(
            "{}|{}|{}|{}|{}",
            self.kind,
            self.tree,
            series,
            self.commit.as_deref().unwrap_or(""),
            self.suite.as_deref().unwrap_or("")
        )
    }
}

/// The answer of [`crate::Store::enqueue_job`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Enqueued {
    pub id: i64,
    /// False when a job with the same dedupe key already existed.
    pub created: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobStatus {
    Queued,
    /// Claimed; its lease may have expired, which makes it claimable again.
    Running,
    /// Finished by its worker; the outcome says how it went.
    Done,
    /// Gave up: every attempt's lease expired.
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Failed,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored job; what [`crate::Store::claim_job`] hands out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub series_id: Option<i64>,
    pub tree: String,
    pub commit: Option<String>,
    pub suite: Option<String>,
    pub payload: Value,
    pub dedupe_key: String,
    pub status: JobStatus,
    /// Claims so far (1 on the first claim).
    pub attempts: u32,
    pub max_attempts: u32,
    /// The fencing token of the current claim: pass it to heartbeat and finish.
    pub token: i64,
    pub worker: Option<String>,
    pub lease_secs: Option<i64>,
    pub lease_until: Option<i64>,
    pub enqueued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub outcome: Option<Value>,
    /// A queued job given back after a failure waits until then (Unix
    /// seconds) before it is claimed again.
    #[serde(default)]
    pub not_before: Option<i64>,
}

/// Which jobs to list; oldest first, or newest first with `newest_first`
/// (a `limit` then keeps the newest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub kind: Option<String>,
    pub series_id: Option<i64>,
    pub limit: Option<usize>,
    pub newest_first: bool,
}

/// How one test ended in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestOutcome {
    pub name: String,
    /// `pass`, `fail` or `skip`.
    pub status: String,
}

/// One execution of one suite on one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// Full commit id.
    pub commit: String,
    pub suite: String,
    /// Hash of what defines the suite's behaviour (command, limits,
    /// environment): runs are shared only between equal fingerprints.
    pub fingerprint: String,
    /// 1 for the first run, 2… for reruns that tell flakes from regressions.
    pub attempt: u32,
    /// `pass`, `fail`, `error` or `timeout`.
    pub status: String,
    /// Unix seconds.
    pub started: i64,
    pub duration_ms: u64,
    /// What the suite printed; capped at [`OUTPUT_CAP`] bytes when stored.
    pub output: String,
    pub tests: Vec<TestOutcome>,
    /// How the run ended and what was parsed, as the caller models it
    /// (the gate's `SuiteRun`); read back when a stored run is reused.
    #[serde(default)]
    pub detail: Value,
}

/// The answer of [`crate::Store::record_run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub id: i64,
    /// False when the run was already stored.
    pub created: bool,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: i64,
    #[serde(flatten)]
    pub run: Run,
}

/// What a finished test leaves behind, written in one transaction: its
/// verdict and the events it leads to. A crash leaves all of it or none.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub series_id: i64,
    pub branch: String,
    pub verdict: Value,
    pub at: i64,
    /// Appended in order, each folded into the series' state.
    pub events: Vec<crate::Event>,
}

/// A stored verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictRecord {
    pub id: i64,
    pub series_id: i64,
    pub branch: String,
    pub at: i64,
    pub verdict: Value,
}

/// `output` cut to at most `cap` bytes: its head and its tail around a line
/// that says how much was left out. Cuts fall on character boundaries.
pub fn cap_output(output: &str, cap: usize) -> String {
    if output.len() <= cap {
        return output.to_string();
    }
    let half = cap / 2;
    let mut head = half;
    while !output.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = output.len() - half;
    while !output.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{}\n[… {} bytes left out …]\n{}",
        &output[..head],
        tail - head,
        &output[tail..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_output_keeps_head_and_tail_on_char_boundaries() {
        let s = "é".repeat(100);
        let capped = cap_output(&s, 51);
        assert!(capped.starts_with('é'));
        assert!(capped.ends_with('é'));
        assert!(capped.contains("bytes left out"));
        assert_eq!(cap_output("short", 10), "short");
    }
}
