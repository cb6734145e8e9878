//! The conformance suite over SQLite files, plus what only SQLite has:
//! migrations of an existing file, WAL mode, and the insert benchmark.

use patchgate_mail::Kind;
use patchgate_store::testkit::{self, message, Harness};
use patchgate_store::{Error, NewMessage, Store};
use patchgate_store_sqlite::SqliteStore;
use std::path::PathBuf;

/// A database file in its own temporary directory.
struct SqliteFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl SqliteFile {
    fn new() -> SqliteFile {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("state.sqlite");
        SqliteFile { _dir: dir, path }
    }
}

impl Harness for SqliteFile {
    fn open(&self) -> Box<dyn Store> {
        Box::new(SqliteStore::open(&self.path).expect("open the database file"))
    }
}

patchgate_store::conformance!(SqliteFile::new());

#[test]
fn reopening_a_file_keeps_its_schema_version() {
    let db = SqliteFile::new();
    let first = SqliteStore::open(&db.path).expect("create");
    assert_eq!(
        first.schema_version().expect("version"),
        SqliteStore::LATEST_SCHEMA
    );
    drop(first);
    let second = SqliteStore::open(&db.path).expect("reopen");
    assert_eq!(
        second.schema_version().expect("version"),
        SqliteStore::LATEST_SCHEMA
    );
}

/// A store that writes mail checkpoints each batch on its own thread and
/// waits for it before the next: the WAL starts again every batch, so it
/// stays about one batch long however many are written, and every message
/// is in the file when the store is gone.
#[test]
fn the_wal_of_an_ingest_stays_one_batch_long_and_holds_nothing_at_the_end() {
    let db = SqliteFile::new();
    let mut store = SqliteStore::open(&db.path).expect("create");
    let wal = db.path.with_extension("sqlite-wal");
    let body = "x".repeat(20 << 10);
    let mut longest = 0;
    for b in 0..20 {
        let messages: Vec<_> = (0..50)
            .map(|i| message(&format!("{b}-{i}@ckpt"), Kind::Patch, "[PATCH] c"))
            .collect();
        let raws: Vec<Vec<u8>> = messages
            .iter()
            .map(|m| [testkit::raw(m), body.clone().into_bytes()].concat())
            .collect();
        let batch: Vec<NewMessage<'_>> = messages
            .iter()
            .zip(&raws)
            .map(|(message, raw)| NewMessage {
                raw,
                message,
                source: "ckpt.mbox",
            })
            .collect();
        store.insert_messages(&batch).expect("insert");
        longest = longest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    // 20 batches of 1 MB: without restarts the WAL would pass 20 MB.
    assert!(longest < 4 << 20, "the WAL grew to {longest} bytes");
    drop(store);
    let conn = rusqlite::Connection::open(&db.path).expect("raw connection");
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM message_raw", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 1000);
}

#[test]
fn a_file_at_an_older_version_is_migrated_keeping_its_data() {
    let db = SqliteFile::new();
    {
        let mut store = SqliteStore::open(&db.path).expect("create");
        testkit::insert(&mut store, &[message("old@x", Kind::Patch, "[PATCH] old")]);
    }
    // Take the file back to version 1, as the first release left it.
    let conn = rusqlite::Connection::open(&db.path).expect("raw connection");
    conn.execute_batch(
        "DROP TABLE run_tests; DROP TABLE runs; DROP TABLE verdicts; DROP TABLE jobs;
         DROP TABLE assembly_keys; DROP TABLE assembly_pending;
         ALTER TABLE messages DROP COLUMN relation_keys;
         DELETE FROM schema_migrations WHERE version > 1;",
    )
    .expect("downgrade to version 1");
    drop(conn);

    let mut store = SqliteStore::open(&db.path).expect("open and migrate");
    assert_eq!(
        store.schema_version().expect("version"),
        SqliteStore::LATEST_SCHEMA
    );
    assert_eq!(store.count_messages().expect("count"), 1, "data kept");
    // Migration 4 marks the stored mail for assembly; its keys come from
    // its summary, as it was stored before migration 5 kept them.
    assert_eq!(store.pending_assembly(10).expect("pending"), ["old@x"]);
    let closure = store
        .assembly_closure(&["old@x".to_string()])
        .expect("closure");
    assert_eq!(closure.len(), 1);
    let job = patchgate_store::NewJob::new("baseline", "kvm");
    assert!(
        store
            .enqueue_job(&job, 1)
            .expect("jobs table is back")
            .created
    );
}

#[test]
fn a_database_from_a_newer_patchgate_is_refused() {
    let db = SqliteFile::new();
    drop(SqliteStore::open(&db.path).expect("create"));
    let conn = rusqlite::Connection::open(&db.path).expect("raw connection");
    conn.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')",
        [],
    )
    .expect("pretend a newer patchgate migrated");
    drop(conn);
    match SqliteStore::open(&db.path) {
        Err(Error::SchemaTooNew { found, known, .. }) => {
            assert_eq!((found, known), (99, SqliteStore::LATEST_SCHEMA));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn files_are_in_wal_mode() {
    let db = SqliteFile::new();
    drop(SqliteStore::open(&db.path).expect("create"));
    let conn = rusqlite::Connection::open(&db.path).expect("raw connection");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal", "WAL mode persists in the file");
}

#[test]
fn in_memory_store_works_for_tests() {
    let mut store = SqliteStore::open_in_memory().expect("in memory");
    testkit::insert(&mut store, &[message("m@x", Kind::Patch, "[PATCH] m")]);
    assert_eq!(store.count_messages().expect("count"), 1);
}

/// Ingest speed of the store alone: 50,000 messages of 5 KB in batches of
/// 1,000 into a file. Run with
/// `cargo test --release -p patchgate-store --test sqlite -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: prints a figure, asserts nothing about speed"]
fn bench_insert_50k_messages() {
    const N: usize = 50_000;
    const BATCH: usize = 1_000;
    let db = SqliteFile::new();
    let mut store = SqliteStore::open(&db.path).expect("create");
    let body = "x".repeat(76) + "\n";
    let messages: Vec<_> = (0..N)
        .map(|i| {
            let kind = if i % 3 == 0 { Kind::Reply } else { Kind::Patch };
            let mut m = message(&format!("{i}.bench@example.org"), kind, "[PATCH 1/3] bench");
            m.references = vec![format!("{}.bench@example.org", i / 3)];
            m
        })
        .collect();
    let raws: Vec<Vec<u8>> = messages
        .iter()
        .map(|m| {
            let mut raw = testkit::raw(m);
            while raw.len() < 5 * 1024 {
                raw.extend_from_slice(body.as_bytes());
            }
            raw
        })
        .collect();
    let cpu_start = cpu_seconds();
    let start = std::time::Instant::now();
    for (ms, rs) in messages.chunks(BATCH).zip(raws.chunks(BATCH)) {
        let batch: Vec<NewMessage<'_>> = ms
            .iter()
            .zip(rs)
            .map(|(message, raw)| NewMessage {
                raw,
                message,
                source: "bench.mbox",
            })
            .collect();
        store.insert_messages(&batch).expect("insert");
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds().map(|end| end - cpu_start.unwrap_or(end));
    let load = std::time::Instant::now();
    let mails = store.assembly_mails().expect("assembly mails");
    let load_secs = load.elapsed().as_secs_f64();
    // Closing the last connection checkpoints what the WAL still holds.
    let close = std::time::Instant::now();
    drop(store);
    let close_secs = close.elapsed().as_secs_f64();
    println!(
        "inserted {N} messages of 5 KB in {secs:.2}s: {:.0} msgs/s, {:.1} MB/s; \
         loaded {} assembly summaries in {:.3}s; closed (final checkpoint) in {close_secs:.2}s",
        N as f64 / secs,
        (N * 5 * 1024) as f64 / secs / 1e6,
        mails.len(),
        load_secs,
    );
    // On a shared machine wall time includes waiting for a core; CPU time
    // (user + system) says what one core would do.
    if let Some(cpu) = cpu {
        println!(
            "insert CPU time {cpu:.2}s: {:.0} msgs/s per core",
            N as f64 / cpu
        );
    }
}

/// User plus system CPU seconds of this process so far (Linux), if known.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 12th and 13th of them, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Reconciling a large archive: 10,000 series of 5 patches, applied once
/// (all new) and again (all unchanged). Run like the insert benchmark.
#[test]
#[ignore = "benchmark: prints a figure, asserts nothing about speed"]
fn bench_apply_assembly_10k_series() {
    let db = SqliteFile::new();
    let mut store = SqliteStore::open(&db.path).expect("create");
    let series: Vec<_> = (0..10_000)
        .map(|i| {
            let ids: Vec<String> = (1..=5).map(|p| format!("{i}.{p}@bench")).collect();
            let patches: Vec<(u32, &str)> = ids
                .iter()
                .enumerate()
                .map(|(p, id)| (p as u32 + 1, id.as_str()))
                .collect();
            testkit::series(
                &format!("{i}.0@bench"),
                Some(&format!("{i}.0@bench")),
                &patches,
                5,
            )
        })
        .collect();
    let a = testkit::assembly(series);
    for round in ["first (all new)", "second (unchanged)"] {
        let start = std::time::Instant::now();
        let changes = testkit::apply(&mut store, &a, 1).expect("apply");
        println!(
            "apply_assembly {round}: {:.2}s, {} new, {} unchanged",
            start.elapsed().as_secs_f64(),
            changes.new,
            changes.unchanged
        );
    }
}
