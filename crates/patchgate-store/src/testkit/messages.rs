//! Messages and source cursors.

use super::{insert, message, raw, reply, Harness};
use crate::NewMessage;
use patchgate_mail::Kind;

pub fn insert_is_idempotent_and_counts_duplicates(h: &dyn Harness) {
    let mut store = h.open();
    let msgs = vec![
        message("a@x", Kind::Patch, "[PATCH 1/2] a"),
        message("b@x", Kind::Patch, "[PATCH 2/2] b"),
    ];
    let first = insert(store.as_mut(), &msgs);
    assert_eq!((first.inserted, first.duplicates), (2, 0));
    let again = insert(store.as_mut(), &msgs);
    assert_eq!((again.inserted, again.duplicates), (0, 2));
    assert_eq!(store.count_messages().expect("count"), 2);
}

pub fn duplicate_id_within_one_batch_is_stored_once(h: &dyn Harness) {
    let mut store = h.open();
    let a = message("same@x", Kind::Other, "first");
    let b = message("same@x", Kind::Other, "second");
    let stats = insert(store.as_mut(), &[a.clone(), b]);
    assert_eq!((stats.inserted, stats.duplicates), (1, 1));
    let summary = store
        .message_summary("same@x")
        .expect("summary")
        .expect("stored");
    assert_eq!(summary.subject, "first", "the first bytes stored win");
    assert_eq!(
        store.raw_message("same@x").expect("raw"),
        Some(raw(&a)),
        "raw bytes are the first copy's"
    );
}

pub fn raw_bytes_round_trip_verbatim(h: &dyn Harness) {
    let mut store = h.open();
    let m = message("bin@x", Kind::Other, "binary");
    // Not UTF-8, with NULs and a bare CR: stored as read, byte for byte.
    let bytes: Vec<u8> = (0u8..=255).chain([b'\r', 0, 0xff]).collect();
    let batch = [NewMessage {
        raw: &bytes,
        message: &m,
        source: "x",
    }];
    store.insert_messages(&batch).expect("insert");
    assert_eq!(store.raw_message("bin@x").expect("raw"), Some(bytes));
    assert_eq!(store.raw_message("nope@x").expect("raw"), None);
}

pub fn unusable_messages_are_kept_with_their_reason(h: &dyn Harness) {
    let mut store = h.open();
    let mut broken = message("broken@x", Kind::Unusable, "");
    broken.problems = vec!["no header block".into(), "not a mail".into()];
    let mut odd = message("odd@x", Kind::Patch, "[PATCH] odd");
    odd.problems = vec!["bad Date: header".into()];
    let clean = message("clean@x", Kind::Patch, "[PATCH] clean");
    let stats = insert(store.as_mut(), &[broken, clean, odd]);
    assert_eq!(stats.inserted, 3);
    assert_eq!(stats.unusable, 2);
    assert_eq!(stats.unusable_ids, vec!["broken@x", "odd@x"]);
    let listed = store.unusable_messages().expect("unusable");
    let got: Vec<(&str, &str)> = listed
        .iter()
        .map(|u| (u.message_id.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("broken@x", "no header block; not a mail"),
            ("odd@x", "bad Date: header")
        ]
    );
    assert!(store.raw_message("broken@x").expect("raw").is_some());
    // A second ingest of the same mail is a duplicate, not unusable again.
    let mut again = message("broken@x", Kind::Unusable, "");
    again.problems = vec!["no header block".into()];
    let stats = insert(store.as_mut(), &[again]);
    assert_eq!((stats.duplicates, stats.unusable), (1, 0));
}

pub fn assembly_mails_are_patches_covers_and_trailer_replies(h: &dyn Harness) {
    let mut store = h.open();
    let msgs = vec![
        message("cover@x", Kind::Cover, "[PATCH 0/1] c"),
        message("patch@x", Kind::Patch, "[PATCH 1/1] p"),
        reply(
            "ack@x",
            "patch@x",
            &["cover@x", "patch@x"],
            &[("Acked-by", "B <b@x>")],
        ),
        reply("chat@x", "patch@x", &["cover@x", "patch@x"], &[]),
        message("other@x", Kind::Other, "hello"),
        message("pull@x", Kind::PullRequest, "[GIT PULL] stuff"),
    ];
    insert(store.as_mut(), &msgs);
    let mails = store.assembly_mails().expect("mails");
    let ids: Vec<&str> = mails.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, vec!["cover@x", "patch@x", "ack@x"]);
    let ack = &mails[2];
    assert_eq!(ack.in_reply_to.as_deref(), Some("patch@x"));
    assert_eq!(ack.references, vec!["cover@x", "patch@x"]);
    assert_eq!(ack.trailers[0].name, "Acked-by");
}

pub fn summary_round_trips(h: &dyn Harness) {
    let mut store = h.open();
    let mut m = message("sum@x", Kind::Patch, "[PATCH v2 3/4] kvm: fix");
    m.prefix.version = 2;
    m.prefix.index = Some(3);
    m.prefix.total = Some(4);
    m.base_commit = Some("0123456789abcdef0123456789abcdef01234567".into());
    insert(store.as_mut(), std::slice::from_ref(&m));
    let s = store
        .message_summary("sum@x")
        .expect("summary")
        .expect("stored");
    assert_eq!(s.kind, Kind::Patch);
    assert_eq!(s.subject, m.subject);
    assert_eq!(s.from, m.from);
    assert_eq!(s.date, m.date);
    assert_eq!(s.list_id, m.list_id);
    assert_eq!(s.source, "test.mbox");
    assert_eq!(s.size, raw(&m).len() as u64);
    assert_eq!(s.mail, patchgate_series::Mail::from(&m));
    assert!(store.message_summary("nope@x").expect("summary").is_none());
}

pub fn cursor_advances_with_its_batch_only(h: &dyn Harness) {
    let mut store = h.open();
    assert_eq!(store.cursor("inbox#0").expect("cursor"), None);
    let m = message("c1@x", Kind::Other, "one");
    let bytes = raw(&m);
    let batch = [NewMessage {
        raw: &bytes,
        message: &m,
        source: "inbox",
    }];
    store
        .insert_messages_with_cursor(&batch, Some(("inbox#0", "commit-1")))
        .expect("insert with cursor");
    assert_eq!(
        store.cursor("inbox#0").expect("cursor").as_deref(),
        Some("commit-1")
    );
    // A batch without a cursor leaves it alone; an empty one can move it.
    insert(store.as_mut(), &[message("c2@x", Kind::Other, "two")]);
    assert_eq!(
        store.cursor("inbox#0").expect("cursor").as_deref(),
        Some("commit-1")
    );
    store
        .insert_messages_with_cursor(&[], Some(("inbox#0", "commit-2")))
        .expect("cursor only");
    assert_eq!(
        store.cursor("inbox#0").expect("cursor").as_deref(),
        Some("commit-2")
    );
    store.set_cursor("inbox#1", "x").expect("set");
    assert_eq!(
        store.cursor("inbox#1").expect("cursor").as_deref(),
        Some("x")
    );
    assert_eq!(
        store.cursor("inbox#0").expect("cursor").as_deref(),
        Some("commit-2")
    );
}

pub fn data_survives_reopening(h: &dyn Harness) {
    {
        let mut store = h.open();
        insert(
            store.as_mut(),
            &[message("keep@x", Kind::Patch, "[PATCH] k")],
        );
        store.set_cursor("src", "v").expect("cursor");
    }
    let store = h.open();
    assert_eq!(store.count_messages().expect("count"), 1);
    assert_eq!(store.cursor("src").expect("cursor").as_deref(), Some("v"));
}

pub fn another_handle_sees_the_same_store(h: &dyn Harness) {
    let mut store = h.open();
    insert(&mut *store, &[message("h@x", Kind::Patch, "[PATCH] h")]);
    let other = store.another().expect("another handle");
    assert!(other.raw_message("h@x").expect("read").is_some());
    // Handles move to other threads.
    let seen = std::thread::spawn(move || other.raw_message("h@x").expect("read").is_some())
        .join()
        .expect("thread");
    assert!(seen);
}
