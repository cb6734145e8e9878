//! Jobs: a queue with leases and fencing tokens.
//!
//! A claim is one `BEGIN IMMEDIATE` transaction running a single
//! `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING …`: SQLite has one
//! writer at a time, so two connections can never claim the same job.
//! (PostgreSQL will pick with `FOR UPDATE SKIP LOCKED` instead.) Every claim
//! increments the job's token; heartbeat and finish compare it, so only the
//! current holder can extend the lease or write the outcome, once.

use super::{from_json, to_json, write_tx, Step};
use patchgate_store::{Enqueued, JobFilter, JobRecord, JobStatus, NewJob};
use patchgate_store::{Error, Result};
use rusqlite::{
    params, params_from_iter, types::Value as SqlValue, Connection, OptionalExtension, Row,
};
use serde_json::Value;

const COLUMNS: &str = "id, kind, series_id, tree, commit_id, suite, payload, dedupe_key, status, \
     attempts, max_attempts, token, worker, lease_secs, lease_until, enqueued_at, started_at, \
     finished_at, outcome, not_before";

/// A job row with its JSON and status columns still text.
struct RawJob {
    job: JobRecord,
    payload: String,
    status: String,
    outcome: Option<String>,
}

fn read_row(r: &Row<'_>) -> rusqlite::Result<RawJob> {
    Ok(RawJob {
        job: JobRecord {
            id: r.get(0)?,
            kind: r.get(1)?,
            series_id: r.get(2)?,
            tree: r.get(3)?,
            commit: r.get(4)?,
            suite: r.get(5)?,
            payload: Value::Null,
            dedupe_key: r.get(7)?,
            status: JobStatus::Queued,
            attempts: r.get(9)?,
            max_attempts: r.get(10)?,
            token: r.get(11)?,
            worker: r.get(12)?,
            lease_secs: r.get(13)?,
            lease_until: r.get(14)?,
            enqueued_at: r.get(15)?,
            started_at: r.get(16)?,
            finished_at: r.get(17)?,
            outcome: None,
            not_before: r.get(19)?,
        },
        payload: r.get(6)?,
        status: r.get(8)?,
        outcome: r.get(18)?,
    })
}

fn decode(raw: RawJob) -> Result<JobRecord> {
    let mut job = raw.job;
    let id = job.id;
    let whose = || format!("job {id}");
    job.payload = from_json(&raw.payload, "payload", whose)?;
    job.status = JobStatus::parse(&raw.status).ok_or_else(|| Error::Corrupt {
        what: "status",
        whose: whose(),
        detail: format!("unknown job status {:?}", raw.status),
    })?;
    job.outcome = match raw.outcome {
        Some(o) => Some(from_json(&o, "outcome", whose)?),
        None => None,
    };
    Ok(job)
}

pub(super) fn enqueue(conn: &mut Connection, job: &NewJob, now: i64) -> Result<Enqueued> {
    let key = job.effective_dedupe_key();
    let payload = to_json(&job.payload, "job payload")?;
    let tx = write_tx(conn, "queueing a job")?;
    let what = || format!("queueing {} job {key}", job.kind);
    let inserted = tx
        .prepare_cached(
            "INSERT INTO jobs (kind, dedupe_key, series_id, tree, commit_id, suite, payload,
                 status, max_attempts, enqueued_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?9)
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .and_then(|mut st| {
            st.execute(params![
                job.kind,
                key,
                job.series_id,
                job.tree,
                job.commit,
                job.suite,
                payload,
                job.max_attempts.max(1),
                now
            ])
        })
        .step(what)?;
    let id: i64 = tx
        .prepare_cached("SELECT id FROM jobs WHERE dedupe_key = ?1")
        .and_then(|mut st| st.query_row([&key], |r| r.get(0)))
        .step(what)?;
    tx.commit().step(what)?;
    Ok(Enqueued {
        id,
        created: inserted == 1,
    })
}

pub(super) fn claim(
    conn: &mut Connection,
    worker: &str,
    lease_secs: i64,
    now: i64,
) -> Result<Option<JobRecord>> {
    if lease_secs <= 0 {
        return Err(Error::Invalid(format!(
            "a job lease must be at least one second, not {lease_secs}"
        )));
    }
    let tx = write_tx(conn, "claiming a job")?;
    let what = || format!("claiming a job for worker {worker}");
    // Expired leases with no attempts left fail here rather than loop.
    tx.prepare_cached(
        "UPDATE jobs SET status = 'failed', finished_at = ?1, token = token + 1,
             outcome = '{\"error\":\"every attempt ended with an expired lease: the worker died or hung\"}'
         WHERE status = 'running' AND lease_until <= ?1 AND attempts >= max_attempts",
    )
    .and_then(|mut st| st.execute([now]))
    .step(what)?;
    let sql = format!(
        "UPDATE jobs SET status = 'running', worker = ?1, attempts = attempts + 1,
             token = token + 1, lease_secs = ?2, lease_until = ?3 + ?2, started_at = ?3
         WHERE id = (
             SELECT id FROM jobs
             WHERE (status = 'queued' AND (not_before IS NULL OR not_before <= ?3))
                OR (status = 'running' AND lease_until <= ?3)
             ORDER BY id LIMIT 1)
         RETURNING {COLUMNS}"
    );
    let raw = tx
        .prepare_cached(&sql)
        .and_then(|mut st| {
            st.query_row(params![worker, lease_secs, now], read_row)
                .optional()
        })
        .step(what)?;
    tx.commit().step(what)?;
    raw.map(decode).transpose()
}

/// Why a token is not current, for the error message.
fn lease_lost(tx: &Connection, job_id: i64, token: i64) -> Result<Error> {
    let row: Option<(String, i64)> = tx
        .prepare_cached("SELECT status, token FROM jobs WHERE id = ?1")
        .and_then(|mut st| {
            st.query_row([job_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .step(|| format!("reading job {job_id}"))?;
    Ok(match row {
        None => Error::NoSuchJob(job_id),
        Some((status, current)) if current != token => Error::LeaseLost {
            job: job_id,
            token,
            why: format!("the job was claimed again, current token {current}, status {status}"),
        },
        Some((status, _)) => Error::LeaseLost {
            job: job_id,
            token,
            why: format!("the job is {status}"),
        },
    })
}

pub(super) fn heartbeat(conn: &mut Connection, job_id: i64, token: i64, now: i64) -> Result<()> {
    let tx = write_tx(conn, "a job heartbeat")?;
    let n = tx
        .prepare_cached(
            "UPDATE jobs SET lease_until = ?3 + lease_secs
             WHERE id = ?1 AND token = ?2 AND status = 'running'",
        )
        .and_then(|mut st| st.execute(params![job_id, token, now]))
        .step(|| format!("extending the lease of job {job_id}"))?;
    if n == 0 {
        return Err(lease_lost(&tx, job_id, token)?);
    }
    tx.commit()
        .step(|| format!("committing the heartbeat of job {job_id}"))
}

/// The environment variable that names a fault point, for tests that show
/// what a crash at that point leaves behind. The one point:
/// `finish-job-before-commit` aborts the process after a finished job's
/// writes and before their commit.
pub const FAULT_POINT: &str = "PATCHGATE_FAULT_POINT";

fn fault(point: &str) {
    if std::env::var_os(FAULT_POINT).is_some_and(|v| v == point) {
        std::process::abort();
    }
}

pub(super) fn finish(
    conn: &mut Connection,
    job_id: i64,
    token: i64,
    outcome: &Value,
    now: i64,
) -> Result<()> {
    finish_recording(conn, job_id, token, outcome, None, now)
}

/// Finishes the job and stores `recording` in one transaction.
pub(super) fn finish_recording(
    conn: &mut Connection,
    job_id: i64,
    token: i64,
    outcome: &Value,
    recording: Option<&patchgate_store::Recording>,
    now: i64,
) -> Result<()> {
    let outcome = to_json(outcome, "job outcome")?;
    let tx = write_tx(conn, "finishing a job")?;
    let n = tx
        .prepare_cached(
            "UPDATE jobs SET status = 'done', outcome = ?3, finished_at = ?4, lease_until = NULL
             WHERE id = ?1 AND token = ?2 AND status = 'running'",
        )
        .and_then(|mut st| st.execute(params![job_id, token, outcome, now]))
        .step(|| format!("recording the outcome of job {job_id}"))?;
    if n == 0 {
        return Err(lease_lost(&tx, job_id, token)?);
    }
    if let Some(r) = recording {
        super::runs::write_recording(&tx, r)?;
    }
    fault("finish-job-before-commit");
    tx.commit()
        .step(|| format!("committing the outcome of job {job_id}"))
}

/// A job that could not be done for a reason that may pass (git or the
/// sandbox failing): queued again, not before `retry_at`, while attempts
/// remain; failed for good, with `error` as its outcome, once they are
/// spent or when `retry_at` is `None`. Returns the status it is left in.
pub(super) fn give_back(
    conn: &mut Connection,
    job_id: i64,
    token: i64,
    error: &Value,
    retry_at: Option<i64>,
    now: i64,
) -> Result<JobStatus> {
    let outcome = to_json(error, "job outcome")?;
    let tx = write_tx(conn, "giving a job back")?;
    let what = || format!("giving job {job_id} back");
    let n = tx
        .prepare_cached(
            "UPDATE jobs SET
                 status = CASE WHEN ?5 IS NOT NULL AND attempts < max_attempts
                          THEN 'queued' ELSE 'failed' END,
                 not_before = CASE WHEN ?5 IS NOT NULL AND attempts < max_attempts
                              THEN ?5 ELSE NULL END,
                 finished_at = CASE WHEN ?5 IS NOT NULL AND attempts < max_attempts
                               THEN NULL ELSE ?4 END,
                 outcome = ?3, lease_until = NULL, worker = NULL
             WHERE id = ?1 AND token = ?2 AND status = 'running'",
        )
        .and_then(|mut st| st.execute(params![job_id, token, outcome, now, retry_at]))
        .step(what)?;
    if n == 0 {
        return Err(lease_lost(&tx, job_id, token)?);
    }
    let status: String = tx
        .prepare_cached("SELECT status FROM jobs WHERE id = ?1")
        .and_then(|mut st| st.query_row([job_id], |r| r.get(0)))
        .step(what)?;
    tx.commit().step(what)?;
    JobStatus::parse(&status).ok_or_else(|| Error::Corrupt {
        what: "status",
        whose: format!("job {job_id}"),
        detail: format!("unknown job status {status:?}"),
    })
}

pub(super) fn list(conn: &Connection, filter: &JobFilter) -> Result<Vec<JobRecord>> {
    let mut sql = format!("SELECT {COLUMNS} FROM jobs WHERE 1 = 1");
    let mut args = Vec::new();
    if let Some(status) = filter.status {
        sql.push_str(" AND status = ?");
        args.push(SqlValue::Text(status.as_str().to_string()));
    }
    if let Some(kind) = &filter.kind {
        sql.push_str(" AND kind = ?");
        args.push(SqlValue::Text(kind.clone()));
    }
    if let Some(series) = filter.series_id {
        sql.push_str(" AND series_id = ?");
        args.push(SqlValue::Integer(series));
    }
    sql.push_str(if filter.newest_first {
        " ORDER BY id DESC"
    } else {
        " ORDER BY id"
    });
    if let Some(limit) = filter.limit {
        sql.push_str(" LIMIT ?");
        args.push(SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    }
    let what = || "listing jobs";
    let mut st = conn.prepare_cached(&sql).step(what)?;
    let rows = st.query_map(params_from_iter(args), read_row).step(what)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(decode(row.step(what)?)?);
    }
    Ok(out)
}
