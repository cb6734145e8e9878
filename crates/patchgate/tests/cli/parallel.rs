//! Ingest parses on several threads; the store must not show it. The same
//! sources ingested with `--threads 1` and with several threads give the
//! same bytes: the summary, `series list --json`, and every stored row
//! (messages and their raw bytes in arrival order, series, members, events,
//! relation keys, cursors), the clock's stamps aside.

use crate::mails::{self, Envelope};
use crate::sources::inbox_append;
use crate::util::{data, Dir};
use rusqlite::types::ValueRef;
use std::path::{Path, PathBuf};

/// Mail enough for several write batches (1000 messages each) and many
/// parse chunks: topics of one to four patches, a cover letter over two or
/// more, second revisions (threaded to the first or by change-id), reviews
/// with trailers, duplicates of a Message-ID with other bytes, and mail
/// with defects (no Message-ID, no Date, no mail at all).
fn generated(topics: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut repeats = Vec::new();
    for t in 0..topics {
        let patches = 1 + t % 4;
        let author = format!("From: Dev {} <dev{}@example.org>", t % 13, t % 13);
        let revisions = 1 + usize::from(t % 3 == 0);
        for v in 1..=revisions {
            let id = |i: usize| format!("t{t}-v{v}-{i}@example.org");
            let v1_cover = format!("t{t}-v1-0@example.org");
            let cover = (patches > 1).then(|| id(0));
            let date = |i: usize| {
                format!(
                    "Mon, {} Aug 2022 {:02}:{:02}:{:02} +0000",
                    1 + v + t % 20,
                    t % 24,
                    (t / 24) % 60,
                    i
                )
            };
            let version = if v > 1 {
                format!("PATCH v{v}")
            } else {
                "PATCH".to_string()
            };
            let change_id = if t % 6 == 3 {
                format!("\nchange-id: 20220801-topic-{t}\n")
            } else {
                String::new()
            };
            if let Some(c) = &cover {
                let parent = (v > 1 && t % 2 == 0).then_some(v1_cover.as_str());
                let m = mails::mail(
                    c,
                    parent,
                    &format!("[{version} 0/{patches}] area{}: topic {t}", t % 7),
                    &date(0),
                    &format!("Topic {t}, revision {v}.\n{change_id}"),
                );
                out.push(m.replacen("From: Ada Lovelace <ada@example.org>", &author, 1));
            }
            for i in 1..=patches {
                let subject = if patches > 1 {
                    format!("[{version} {i}/{patches}] area{}: part {i} of {t}", t % 7)
                } else {
                    format!("[{version}] area{}: fix {t}", t % 7)
                };
                let file = format!("src/f{t}_{i}.c");
                let body = format!(
                    "Change {i} of topic {t}, revision {v}.\n\n\
                     Signed-off-by: Dev {} <dev{}@example.org>\n---\n \
                     {file} | 1 +\n 1 file changed, 1 insertion(+)\n\n\
                     diff --git a/{file} b/{file}\nnew file mode 100644\n\
                     --- /dev/null\n+++ b/{file}\n@@ -0,0 +1 @@\n+int v{v}_{i};\n{}",
                    t % 13,
                    t % 13,
                    if patches == 1 { change_id.as_str() } else { "" }
                );
                let m = mails::mail(&id(i), cover.as_deref(), &subject, &date(i), &body);
                out.push(m.replacen("From: Ada Lovelace <ada@example.org>", &author, 1));
                if t % 5 == 1 && i == 1 {
                    out.push(mails::reply(
                        &format!("t{t}-v{v}-{i}-review@example.org"),
                        &id(i),
                        &subject,
                        "Reviewed-by: Grace Hopper <grace@example.org>",
                    ));
                }
                if t % 41 == 7 {
                    repeats.push(m.replace("Change ", "Another copy of change "));
                }
            }
        }
        match t % 97 {
            11 => out.push(
                mails::mail(
                    "x",
                    None,
                    &format!("[PATCH] no id {t}"),
                    "Mon, 1 Aug 2022",
                    "x\n",
                )
                .replace("Message-ID: <x>\n", ""),
            ),
            23 => out.push(
                mails::mail(&format!("nodate-{t}@example.org"), None, "hi", "", "hi\n")
                    .replace("Date: \n", ""),
            ),
            31 => out.push(format!("\u{1}\u{2} not a mail at all {t}\n")),
            _ => {}
        }
        // Later copies of earlier Message-IDs: the first copy is kept.
        if t % 50 == 49 {
            out.append(&mut repeats);
        }
    }
    out
}

/// Every row of the tables ingest writes, rendered, in row order; the
/// clock's stamps (`at`, `created_at`, `updated_at`) are left out: two
/// runs a second apart differ there and nowhere else.
fn stored_rows(state: &Path) -> Vec<String> {
    let db = rusqlite::Connection::open(state.join(".patchgate/patchgate.sqlite"))
        .expect("the store opens");
    let tables = [
        ("messages", "id"),
        ("message_raw", "message"),
        ("topics", "id"),
        ("series", "id"),
        ("series_mails", "message_id"),
        ("events", "id"),
        ("assembly_keys", "key, message"),
        ("assembly_pending", "message"),
        ("cursors", "source_key"),
    ];
    let clock = ["at", "created_at", "updated_at"];
    let mut out = Vec::new();
    for (table, order) in tables {
        let mut st = db
            .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
            .expect("the table is there");
        let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
        let mut rows = st.query([]).expect("the table reads");
        let mut n = 0;
        while let Some(row) = rows.next().expect("a row reads") {
            let mut line = format!("{table}:");
            for (i, name) in names.iter().enumerate() {
                if clock.contains(&name.as_str()) {
                    continue;
                }
                let v = row.get_ref(i).expect("a column reads");
                let shown = match v {
                    ValueRef::Blob(b) => format!("{:?}", String::from_utf8_lossy(b)),
                    other => format!("{other:?}"),
                };
                line.push_str(&format!(" {name}={shown}"));
            }
            out.push(line);
            n += 1;
        }
        assert!(n > 0 || table == "assembly_pending", "{table} is empty");
    }
    out
}

/// Ingest `sources` into a fresh store with `threads`; the summary and the
/// `series list --json` bytes.
fn ingest_with(threads: usize, sources: &[PathBuf]) -> (Dir, String, Vec<u8>, Vec<u8>) {
    let dir = Dir::new();
    let n = threads.to_string();
    let mut args = vec!["ingest", "--json", "--threads", &n];
    args.extend(sources.iter().map(|p| p.to_str().expect("utf-8 path")));
    let summary = dir.ok(&args).stdout_bytes;
    let again = dir.ok(&args).stdout_bytes;
    let list = dir.ok(&["series", "list", "--json"]).stdout;
    (dir, list, summary, again)
}

#[test]
fn a_parallel_ingest_stores_exactly_what_one_thread_stores() {
    let sources_dir = Dir::new();
    let mut all = generated(700);
    let maildir_mails = all.split_off(all.len() - 40);
    let inbox_mails = all.split_off(all.len() - 1100);
    assert!(all.len() > 2000, "{} mails", all.len());
    let mbox = sources_dir.write("generated.mbox", Envelope::ALL[0].mbox(&all));

    // A Maildir with an entry that is no message, among messages.
    let maildir = sources_dir.path().join("maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("maildir folder");
    }
    for (i, m) in maildir_mails.iter().enumerate() {
        let sub = if i % 3 == 0 { "new" } else { "cur" };
        sources_dir.write(&format!("maildir/{sub}/{i:04}.host:2,S"), m);
    }
    std::fs::create_dir_all(maildir.join("cur/0007.not-a-file")).expect("folder entry");

    // A public-inbox archive of over one batch: its cursor travels with
    // the batch it completes.
    let inbox = sources_dir.path().join("lore");
    let commits: Vec<Option<&str>> = inbox_mails.iter().map(|m| Some(m.as_str())).collect();
    let (first, second) = commits.split_at(700);
    inbox_append(&inbox.join("git/0.git"), first);
    inbox_append(&inbox.join("git/1.git"), second);

    let sources = [
        mbox,
        maildir,
        inbox,
        data("kvmarm-kvm-unit-tests-2022.mbox"),
        data("demo-arm-pmu-fixes-v1-v4.mbox"),
    ];
    let (one, one_list, one_summary, one_again) = ingest_with(1, &sources);
    let summary: serde_json::Value =
        serde_json::from_slice(&one_summary).expect("the summary is JSON");
    assert!(
        summary["unusable"].as_array().is_some_and(|u| u.len() > 3)
            && summary["with_problems"]
                .as_array()
                .is_some_and(|u| u.len() > 3)
            && summary["duplicates"].as_i64().is_some_and(|d| d > 10),
        "the corpus lacks the cases it is for: {summary:#}"
    );
    let one_rows = stored_rows(one.path());
    for threads in [2, 3, 8] {
        let (many, list, summary, again) = ingest_with(threads, &sources);
        assert_eq!(
            String::from_utf8_lossy(&summary),
            String::from_utf8_lossy(&one_summary),
            "summary, {threads} threads"
        );
        assert_eq!(
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(&one_again),
            "summary of the second ingest, {threads} threads"
        );
        assert!(list == one_list, "series list --json, {threads} threads");
        let rows = stored_rows(many.path());
        assert_eq!(rows.len(), one_rows.len(), "rows, {threads} threads");
        for (a, b) in one_rows.iter().zip(&rows) {
            assert_eq!(a, b, "{threads} threads");
        }
    }
}
