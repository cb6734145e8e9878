//! Runs, per-test results and verdicts.
//!
//! Runs are content-addressed by (commit, suite fingerprint, attempt), so
//! the baseline run of a base commit is stored once and shared by every
//! series on that base, and a worker that stores a run twice (say, after a
//! crash between storing it and finishing its job) changes nothing.

use super::{from_json, to_json, write_tx, Step};
use patchgate_store::work::{cap_output, OUTPUT_CAP};
use patchgate_store::Result;
use patchgate_store::{Recorded, Run, RunRecord, TestOutcome, VerdictRecord};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

pub(super) fn record(conn: &mut Connection, run: &Run) -> Result<Recorded> {
    let what = || {
        format!(
            "storing run {} attempt {} of suite {} on {}",
            run.fingerprint, run.attempt, run.suite, run.commit
        )
    };
    let output = cap_output(&run.output, OUTPUT_CAP);
    let detail = to_json(&run.detail, "run detail")?;
    let tx = write_tx(conn, "a run")?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO runs (commit_id, suite, fingerprint, attempt, status, started,
                 duration_ms, output, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (commit_id, fingerprint, attempt) DO NOTHING",
        )
        .and_then(|mut st| {
            st.execute(params![
                run.commit,
                run.suite,
                run.fingerprint,
                run.attempt,
                run.status,
                run.started,
                i64::try_from(run.duration_ms).unwrap_or(i64::MAX),
                output,
                detail
            ])
        })
        .step(what)?;
    if inserted == 0 {
        let id: i64 = tx
            .prepare_cached(
                "SELECT id FROM runs WHERE commit_id = ?1 AND fingerprint = ?2 AND attempt = ?3",
            )
            .and_then(|mut st| {
                st.query_row(params![run.commit, run.fingerprint, run.attempt], |r| {
                    r.get(0)
                })
            })
            .step(what)?;
        return Ok(Recorded { id, created: false });
    }
    let id = tx.last_insert_rowid();
    {
        // A suite may report one name twice; the first report stands.
        let mut st = tx
            .prepare_cached(
                "INSERT INTO run_tests (run_id, name, status) VALUES (?1, ?2, ?3)
                 ON CONFLICT (run_id, name) DO NOTHING",
            )
            .step(what)?;
        for t in &run.tests {
            st.execute(params![id, t.name, t.status]).step(what)?;
        }
    }
    tx.commit().step(what)?;
    Ok(Recorded { id, created: true })
}

pub(super) fn runs_for(
    conn: &Connection,
    commit: &str,
    fingerprint: &str,
) -> Result<Vec<RunRecord>> {
    let what = || format!("reading the runs of {fingerprint} on {commit}");
    let mut st = conn
        .prepare_cached(
            "SELECT id, suite, attempt, status, started, duration_ms, output, detail FROM runs
             WHERE commit_id = ?1 AND fingerprint = ?2 ORDER BY attempt",
        )
        .step(what)?;
    let rows = st
        .query_map(params![commit, fingerprint], |r| {
            let detail: String = r.get(7)?;
            let record = RunRecord {
                id: r.get(0)?,
                run: Run {
                    commit: commit.to_string(),
                    suite: r.get(1)?,
                    fingerprint: fingerprint.to_string(),
                    attempt: r.get(2)?,
                    status: r.get(3)?,
                    started: r.get(4)?,
                    duration_ms: r.get::<_, i64>(5)?.max(0) as u64,
                    output: r.get(6)?,
                    tests: Vec::new(),
                    detail: Value::Null,
                },
            };
            Ok((record, detail))
        })
        .step(what)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut record, detail) = row.step(what)?;
        record.run.detail = from_json(&detail, "run detail", || format!("run {}", record.id))?;
        out.push(record);
    }
    let mut tests = conn
        .prepare_cached("SELECT name, status FROM run_tests WHERE run_id = ?1 ORDER BY rowid")
        .step(what)?;
    for rec in &mut out {
        let rows = tests
            .query_map([rec.id], |r| {
                Ok(TestOutcome {
                    name: r.get(0)?,
                    status: r.get(1)?,
                })
            })
            .step(what)?;
        for row in rows {
            rec.run.tests.push(row.step(what)?);
        }
    }
    Ok(out)
}

pub(super) fn test_results(
    conn: &Connection,
    suite: &str,
    test: &str,
) -> Result<Vec<(String, String)>> {
    let what = || format!("reading the results of test {test} of suite {suite}");
    let mut st = conn
        .prepare_cached(
            "SELECT r.commit_id, t.status FROM run_tests t JOIN runs r ON r.id = t.run_id
             WHERE t.name = ?1 AND r.suite = ?2 ORDER BY r.started, r.id",
        )
        .step(what)?;
    let rows = st
        .query_map(params![test, suite], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .step(what)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.step(what)?);
    }
    Ok(out)
}

pub(super) fn record_verdict(
    conn: &mut Connection,
    series_id: i64,
    branch: &str,
    verdict: &Value,
    at: i64,
) -> Result<i64> {
    let what = || format!("storing the verdict of series {series_id} for {branch}");
    let verdict = to_json(verdict, "verdict")?;
    let tx = write_tx(conn, "a verdict")?;
    tx.prepare_cached(
        "INSERT INTO verdicts (series_id, branch, at, verdict) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut st| st.execute(params![series_id, branch, at, verdict]))
    .step(what)?;
    let id = tx.last_insert_rowid();
    tx.commit().step(what)?;
    Ok(id)
}

/// A verdict and its events, inside `tx`.
pub(super) fn write_recording(
    tx: &rusqlite::Transaction<'_>,
    r: &patchgate_store::Recording,
) -> Result<()> {
    let what = || {
        format!(
            "storing the verdict of series {} for {}",
            r.series_id, r.branch
        )
    };
    let verdict = to_json(&r.verdict, "verdict")?;
    tx.prepare_cached(
        "INSERT INTO verdicts (series_id, branch, at, verdict) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut st| st.execute(params![r.series_id, r.branch, r.at, verdict]))
    .step(what)?;
    for e in &r.events {
        super::events::append(tx, r.series_id, e)?;
    }
    Ok(())
}

/// A verdict and its events in one transaction.
pub(super) fn record_outcome(conn: &mut Connection, r: &patchgate_store::Recording) -> Result<()> {
    let tx = write_tx(conn, "a verdict")?;
    write_recording(&tx, r)?;
    tx.commit()
        .step(|| format!("committing the verdict of series {}", r.series_id))
}

pub(super) fn latest_verdict(
    conn: &Connection,
    series_id: i64,
    branch: Option<&str>,
) -> Result<Option<VerdictRecord>> {
    let what = || format!("reading the verdict of series {series_id}");
    let row: Option<(i64, String, i64, String)> = conn
        .prepare_cached(
            "SELECT id, branch, at, verdict FROM verdicts
             WHERE series_id = ?1 AND (?2 IS NULL OR branch = ?2)
             ORDER BY id DESC LIMIT 1",
        )
        .and_then(|mut st| {
            st.query_row(params![series_id, branch], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()
        })
        .step(what)?;
    row.map(|(id, branch, at, verdict)| {
        Ok(VerdictRecord {
            id,
            series_id,
            branch,
            at,
            verdict: from_json(&verdict, "verdict", || format!("verdict {id}"))?,
        })
    })
    .transpose()
}
