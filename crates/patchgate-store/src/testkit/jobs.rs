//! Jobs (leases, fencing), runs and verdicts.

use super::{assembly, series, Harness};
use crate::{Error, JobFilter, JobStatus, NewJob, Run, TestOutcome};
use serde_json::json;
use std::collections::BTreeSet;

fn job(suite: &str) -> NewJob {
    let mut j = NewJob::new("test-series", "kvm");
    j.series_id = None;
    j.commit = Some("a".repeat(40));
    j.suite = Some(suite.to_string());
    j.payload = json!({ "why": "conformance" });
    j
}

pub fn enqueue_is_idempotent_by_dedupe_key(h: &dyn Harness) {
    let mut store = h.open();
    let first = store.enqueue_job(&job("unit"), 10).expect("enqueue");
    assert!(first.created);
    let again = store.enqueue_job(&job("unit"), 20).expect("enqueue again");
    assert_eq!((again.id, again.created), (first.id, false));
    let other = store.enqueue_job(&job("build"), 30).expect("enqueue other");
    assert!(other.created && other.id != first.id);
    let mut keyed = job("unit");
    keyed.dedupe_key = Some("unit after v2 gained a patch".into());
    assert!(
        store
            .enqueue_job(&keyed, 40)
            .expect("enqueue keyed")
            .created
    );

    let queued = store
        .jobs(&JobFilter {
            status: Some(JobStatus::Queued),
            ..JobFilter::default()
        })
        .expect("jobs");
    assert_eq!(queued.len(), 3);
    assert_eq!(queued[0].payload, json!({ "why": "conformance" }));
    let newest = store
        .jobs(&JobFilter {
            limit: Some(2),
            newest_first: true,
            ..JobFilter::default()
        })
        .expect("jobs");
    assert_eq!(
        newest.iter().map(|j| j.enqueued_at).collect::<Vec<_>>(),
        vec![40, 30],
        "the newest two, newest first"
    );
    assert_eq!(queued[0].enqueued_at, 10);
    assert_eq!(queued[0].suite.as_deref(), Some("unit"));
}

pub fn claim_lease_expiry_and_fencing(h: &dyn Harness) {
    let mut store = h.open();
    let id = store.enqueue_job(&job("unit"), 0).expect("enqueue").id;

    let first = store.claim_job("w1", 60, 0).expect("claim").expect("a job");
    assert_eq!(
        (first.id, first.attempts, first.status),
        (id, 1, JobStatus::Running)
    );
    assert_eq!(first.lease_until, Some(60));
    assert_eq!(
        store.claim_job("w2", 60, 10).expect("claim"),
        None,
        "lease held"
    );

    store.heartbeat(id, first.token, 50).expect("heartbeat");
    assert_eq!(
        store.claim_job("w2", 60, 100).expect("claim"),
        None,
        "lease extended"
    );

    // w1 stalls past its lease; w2 takes the job over.
    let second = store
        .claim_job("w2", 60, 200)
        .expect("claim")
        .expect("expired job");
    assert_eq!((second.id, second.attempts), (id, 2));
    assert!(second.token > first.token);
    assert_eq!(second.worker.as_deref(), Some("w2"));

    assert!(matches!(
        store.heartbeat(id, first.token, 201),
        Err(Error::LeaseLost { .. })
    ));
    assert!(matches!(
        store.finish_job(id, first.token, &json!({"w": 1}), 202),
        Err(Error::LeaseLost { .. })
    ));
    store
        .finish_job(id, second.token, &json!({"w": 2}), 203)
        .expect("finish");
    assert!(
        matches!(
            store.finish_job(id, second.token, &json!({"w": 2}), 204),
            Err(Error::LeaseLost { .. })
        ),
        "an outcome is written once"
    );
    assert!(matches!(
        store.finish_job(987_654, 1, &json!(null), 205),
        Err(Error::NoSuchJob(987_654))
    ));

    let done = store
        .jobs(&JobFilter {
            status: Some(JobStatus::Done),
            ..JobFilter::default()
        })
        .expect("jobs");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].outcome, Some(json!({"w": 2})));
    assert_eq!(done[0].finished_at, Some(203));
    assert_eq!(store.claim_job("w3", 60, 10_000).expect("claim"), None);
}

pub fn exhausted_attempts_fail_the_job(h: &dyn Harness) {
    let mut store = h.open();
    let mut j = job("crashy");
    j.max_attempts = 2;
    let id = store.enqueue_job(&j, 0).expect("enqueue").id;
    let a1 = store.claim_job("w", 10, 0).expect("claim").expect("job");
    let a2 = store.claim_job("w", 10, 100).expect("claim").expect("job");
    assert_eq!(a2.attempts, 2);
    assert_eq!(store.claim_job("w", 10, 200).expect("claim"), None);
    let failed = store
        .jobs(&JobFilter {
            status: Some(JobStatus::Failed),
            ..JobFilter::default()
        })
        .expect("jobs");
    assert_eq!(failed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    assert!(failed[0].outcome.is_some());
    for token in [a1.token, a2.token] {
        assert!(matches!(
            store.finish_job(id, token, &json!(null), 300),
            Err(Error::LeaseLost { .. })
        ));
    }
}

pub fn a_job_given_back_waits_out_its_back_off_then_fails_when_spent(h: &dyn Harness) {
    let mut store = h.open();
    let mut j = job("infra");
    j.max_attempts = 2;
    let id = store.enqueue_job(&j, 0).expect("enqueue").id;
    let a1 = store.claim_job("w", 60, 0).expect("claim").expect("job");
    let status = store
        .give_back_job(
            id,
            a1.token,
            &json!({"error": "git fetch failed"}),
            Some(30),
            5,
        )
        .expect("give back");
    assert_eq!(status, JobStatus::Queued);
    let queued = store.jobs(&JobFilter::default()).expect("jobs");
    assert_eq!(queued[0].not_before, Some(30));
    assert_eq!(
        queued[0].outcome,
        Some(json!({"error": "git fetch failed"}))
    );
    assert_eq!(
        store.claim_job("w", 60, 29).expect("claim"),
        None,
        "backing off"
    );
    let a2 = store.claim_job("w", 60, 30).expect("claim").expect("due");
    assert_eq!(a2.attempts, 2);
    // The old token gives nothing back.
    assert!(matches!(
        store.give_back_job(id, a1.token, &json!(null), Some(99), 31),
        Err(Error::LeaseLost { .. })
    ));
    let status = store
        .give_back_job(id, a2.token, &json!({"error": "again"}), Some(90), 40)
        .expect("give back");
    assert_eq!(status, JobStatus::Failed, "no attempt left");
    let failed = store.jobs(&JobFilter::default()).expect("jobs");
    assert_eq!(failed[0].finished_at, Some(40));
    assert_eq!(failed[0].not_before, None);
    assert_eq!(store.claim_job("w", 60, 1000).expect("claim"), None);
    // Without a retry time it fails at once.
    let k = store.enqueue_job(&job("config"), 0).expect("enqueue").id;
    let c = store.claim_job("w", 60, 1000).expect("claim").expect("job");
    assert_eq!(c.id, k);
    let status = store
        .give_back_job(k, c.token, &json!({"error": "no tree"}), None, 1001)
        .expect("give back");
    assert_eq!(status, JobStatus::Failed);
}

pub fn concurrent_claims_hand_out_each_job_once(h: &dyn Harness) {
    let mut store = h.open();
    let mut all = BTreeSet::new();
    for i in 0..200 {
        all.insert(
            store
                .enqueue_job(&job(&format!("s{i}")), 0)
                .expect("enqueue")
                .id,
        );
    }
    let workers: Vec<_> = (0..4).map(|_| h.open()).collect();
    let claimed: Vec<Vec<i64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = workers
            .into_iter()
            .enumerate()
            .map(|(w, mut s)| {
                scope.spawn(move || {
                    let name = format!("worker-{w}");
                    let mut got = Vec::new();
                    while let Some(j) = s.claim_job(&name, 3600, 1).expect("claim") {
                        s.finish_job(j.id, j.token, &json!({ "by": name }), 2)
                            .expect("finish with a fresh token");
                        got.push(j.id);
                    }
                    got
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker thread"))
            .collect()
    });
    let total: usize = claimed.iter().map(Vec::len).sum();
    let unique: BTreeSet<i64> = claimed.iter().flatten().copied().collect();
    assert_eq!(total, 200, "every job claimed exactly once");
    assert_eq!(unique, all);
    let done = store
        .jobs(&JobFilter {
            status: Some(JobStatus::Done),
            ..JobFilter::default()
        })
        .expect("jobs");
    assert!(done.iter().all(|j| j.attempts == 1));
    assert_eq!(done.len(), 200);
}

fn run(commit: &str, attempt: u32, started: i64, tests: &[(&str, &str)]) -> Run {
    Run {
        commit: commit.to_string(),
        suite: "unit".into(),
        fingerprint: "fp-unit-1".into(),
        attempt,
        status: "pass".into(),
        started,
        duration_ms: 1234,
        output: "ok 1 - add\n".into(),
        tests: tests
            .iter()
            .map(|(n, s)| TestOutcome {
                name: n.to_string(),
                status: s.to_string(),
            })
            .collect(),
        detail: json!({ "exit_code": 0 }),
    }
}

pub fn runs_are_deduplicated_and_shared(h: &dyn Harness) {
    let mut store = h.open();
    let base = "b".repeat(40);
    let first = store
        .record_run(&run(&base, 1, 10, &[("add", "pass")]))
        .expect("run");
    assert!(first.created);
    let again = store
        .record_run(&run(&base, 1, 99, &[("add", "fail")]))
        .expect("run");
    assert_eq!((again.id, again.created), (first.id, false));
    let retry = store
        .record_run(&run(&base, 2, 20, &[("add", "pass")]))
        .expect("run");
    assert!(retry.created && retry.id != first.id);

    let runs = store.runs_for(&base, "fp-unit-1").expect("runs");
    assert_eq!(
        runs.iter().map(|r| r.run.attempt).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(runs[0].run.tests[0].status, "pass", "the first copy stands");
    assert_eq!(runs[0].run.started, 10);
    assert_eq!(runs[0].run.detail, json!({ "exit_code": 0 }));
    assert!(store
        .runs_for(&base, "another-fp")
        .expect("runs")
        .is_empty());

    let mut big = run(&"c".repeat(40), 1, 30, &[]);
    big.output = "x".repeat(4 << 20);
    store.record_run(&big).expect("big run");
    let stored = store.runs_for(&big.commit, "fp-unit-1").expect("runs");
    assert!(stored[0].run.output.len() < 300 * 1024, "output is capped");
    assert!(stored[0].run.output.contains("bytes left out"));
}

pub fn test_results_come_in_the_order_the_runs_started(h: &dyn Harness) {
    let mut store = h.open();
    let (c1, c2, c3) = ("1".repeat(40), "2".repeat(40), "3".repeat(40));
    for r in [
        run(&c2, 2, 30, &[("add", "pass")]),
        run(&c1, 1, 10, &[("add", "pass"), ("sub", "skip")]),
        run(&c3, 1, 40, &[("add", "pass")]),
        run(&c2, 1, 20, &[("add", "fail")]),
    ] {
        store.record_run(&r).expect("run");
    }
    let add = store.test_results("unit", "add").expect("results");
    let want: Vec<(String, String)> = [(&c1, "pass"), (&c2, "fail"), (&c2, "pass"), (&c3, "pass")]
        .iter()
        .map(|(c, s)| (c.to_string(), s.to_string()))
        .collect();
    assert_eq!(add, want);
    assert_eq!(
        store.test_results("unit", "sub").expect("results"),
        vec![(c1.clone(), "skip".to_string())]
    );
    assert!(store
        .test_results("other", "add")
        .expect("results")
        .is_empty());
}

pub fn latest_verdict_per_branch(h: &dyn Harness) {
    let mut store = h.open();
    let id = crate::testkit::apply(
        &mut *store,
        &assembly(vec![series("v@x", None, &[(1, "v@x")], 1)]),
        1,
    )
    .expect("apply")
    .new_ids[0];
    assert_eq!(store.latest_verdict(id, None).expect("verdict"), None);
    store
        .record_verdict(id, "queue", &json!({"verdict": "pass"}), 10)
        .expect("record");
    store
        .record_verdict(id, "next", &json!({"verdict": "fail"}), 20)
        .expect("record");
    let any = store
        .latest_verdict(id, None)
        .expect("verdict")
        .expect("one");
    assert_eq!((any.branch.as_str(), any.at), ("next", 20));
    let queue = store
        .latest_verdict(id, Some("queue"))
        .expect("verdict")
        .expect("one");
    assert_eq!(queue.verdict, json!({"verdict": "pass"}));
}

pub fn finishing_a_job_writes_its_verdict_and_events_together_or_not_at_all(h: &dyn Harness) {
    use crate::{Event, EventKind, Recording, State};
    let mut store = h.open();
    let id = crate::testkit::apply(
        &mut *store,
        &assembly(vec![series("r@x", None, &[(1, "r@x")], 1)]),
        1,
    )
    .expect("apply")
    .new_ids[0];
    let event = |kind: EventKind| Event {
        at: 5,
        kind,
        actor: "w".into(),
        detail: json!({}),
    };
    store
        .append_event(id, &event(EventKind::Applying))
        .expect("applying");
    store
        .append_event(id, &event(EventKind::Testing))
        .expect("testing");
    let mut j = job("unit");
    j.series_id = Some(id);
    let job_id = store.enqueue_job(&j, 0).expect("enqueue").id;
    let stale = store.claim_job("w1", 10, 0).expect("claim").expect("job");
    let current = store
        .claim_job("w2", 10, 100)
        .expect("claim")
        .expect("job again");
    let recording = Recording {
        series_id: id,
        branch: "queue".into(),
        verdict: json!({"verdict": "pass"}),
        at: 110,
        events: vec![event(EventKind::TestedPass)],
    };
    // A worker that lost its lease writes none of it.
    assert!(matches!(
        store.finish_job_recording(job_id, stale.token, &json!({}), Some(&recording), 110),
        Err(Error::LeaseLost { .. })
    ));
    assert_eq!(store.latest_verdict(id, None).expect("verdict"), None);
    assert_eq!(
        store.get_series(id).expect("get").expect("one").state,
        State::Testing
    );
    // The holder writes all of it at once.
    store
        .finish_job_recording(
            job_id,
            current.token,
            &json!({"ok": true}),
            Some(&recording),
            110,
        )
        .expect("finish");
    assert!(store
        .latest_verdict(id, Some("queue"))
        .expect("verdict")
        .is_some());
    assert_eq!(
        store.get_series(id).expect("get").expect("one").state,
        State::TestedPass
    );
    let done = store.jobs(&JobFilter::default()).expect("jobs");
    assert_eq!(done[0].status, JobStatus::Done);
}
