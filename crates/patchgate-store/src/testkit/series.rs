//! Series, topics, reconciliation with assembly, and the event log.

use super::{assembly, collected, insert, message, reply, series, trailer, Harness};
use crate::{state_from_events, Error, Event, EventKind, SeriesFilter, State, Store};
use patchgate_mail::Kind;
use serde_json::json;

fn kinds(store: &dyn Store, id: i64) -> Vec<String> {
    store
        .events(id)
        .expect("events")
        .into_iter()
        .map(|e| e.event.kind.to_string())
        .collect()
}

fn find(store: &dyn Store, reference: &str) -> Option<i64> {
    store.find_series(reference).expect("find_series")
}

pub fn apply_assembly_twice_changes_nothing(h: &dyn Harness) {
    let mut store = h.open();
    let mut b = series("b1", Some("b0"), &[(1, "b1"), (2, "b2")], 2);
    b.patches[0].collected = vec![collected("Acked-by", "X <x@x>", "r@x")];
    let a = assembly(vec![series("a1", None, &[(1, "a1")], 1), b]);
    let first = crate::testkit::apply(&mut *store, &a, 100).expect("apply");
    assert_eq!((first.new, first.updated, first.unchanged), (2, 0, 0));
    assert_eq!(first.new_ids.len(), 2);
    let history: Vec<_> = first.new_ids.iter().map(|&id| kinds(&*store, id)).collect();
    let before = store.list_series(&SeriesFilter::default()).expect("list");

    let second = crate::testkit::apply(&mut *store, &a, 200).expect("apply again");
    assert_eq!(
        (second.new, second.updated, second.superseded, second.merged),
        (0, 0, 0, 0)
    );
    assert_eq!(second.unchanged, 2);
    assert!(second.new_ids.is_empty() && second.changed_ids.is_empty());
    let after: Vec<_> = first.new_ids.iter().map(|&id| kinds(&*store, id)).collect();
    assert_eq!(history, after, "no event recorded");
    assert_eq!(
        before,
        store.list_series(&SeriesFilter::default()).expect("list")
    );
}

pub fn series_keeps_its_id_when_cover_letter_arrives_later(h: &dyn Harness) {
    let mut store = h.open();
    let early = series("p1", None, &[(1, "p1"), (2, "p2")], 2);
    let first = crate::testkit::apply(&mut *store, &assembly(vec![early]), 100).expect("apply");
    let id = first.new_ids[0];
    let topic = store.get_series(id).expect("get").expect("stored").topic;

    let mut later = series("c0", Some("c0"), &[(1, "p1"), (2, "p2")], 2);
    later.title = "the cover letter's title".into();
    let second = crate::testkit::apply(&mut *store, &assembly(vec![later]), 200).expect("apply");
    assert_eq!((second.new, second.updated), (0, 1));
    assert_eq!(second.changed_ids, vec![id]);

    let rec = store.get_series(id).expect("get").expect("stored");
    assert_eq!(
        rec.message_id, "c0",
        "the cover letter's id once there is one"
    );
    assert_eq!(rec.subject, "the cover letter's title");
    assert_eq!(rec.topic, topic, "its topic keeps its id too");
    assert_eq!(kinds(&*store, id), vec!["ingested", "updated"]);
    let updated = &store.events(id).expect("events")[1].event;
    assert_eq!(updated.detail["cover_added"], json!(true));
    assert_eq!(updated.at, 200);
    assert_eq!(updated.actor, "assembly");
}

/// v1 and v2 of one topic, v2 superseding v1.
fn two_revisions() -> patchgate_series::Assembly {
    let mut v1 = series("v1c@x", Some("v1c@x"), &[(1, "v1p1@x")], 1);
    let mut v2 = series("v2c@x", Some("v2c@x"), &[(1, "v2p1@x")], 1);
    v2.version = 2;
    v2.topic = "v1c@x".into();
    v1.superseded_by = Some("v2c@x".into());
    assembly(vec![v1, v2])
}

pub fn supersede_records_event_naming_newer_series(h: &dyn Harness) {
    let mut store = h.open();
    let v1 = series("v1c@x", Some("v1c@x"), &[(1, "v1p1@x")], 1);
    let first = crate::testkit::apply(&mut *store, &assembly(vec![v1]), 100).expect("apply");
    let v1_id = first.new_ids[0];

    let second = crate::testkit::apply(&mut *store, &two_revisions(), 200).expect("apply");
    assert_eq!((second.new, second.superseded, second.updated), (1, 1, 0));
    let v2_id = second.new_ids[0];
    assert_eq!(second.changed_ids, vec![v1_id]);

    let rec = store.get_series(v1_id).expect("get").expect("stored");
    assert_eq!(rec.superseded_by, Some(v2_id));
    assert_eq!(rec.state, State::Superseded);
    let last = store
        .events(v1_id)
        .expect("events")
        .pop()
        .expect("an event");
    assert_eq!(last.event.kind, EventKind::Superseded);
    assert_eq!(last.event.detail["by"], json!(v2_id));
    assert_eq!(
        store.get_series(v2_id).expect("get").expect("v2").state,
        State::New
    );

    let third = crate::testkit::apply(&mut *store, &two_revisions(), 300).expect("apply");
    assert_eq!((third.superseded, third.unchanged), (0, 2));
    assert_eq!(kinds(&*store, v1_id), vec!["ingested", "superseded"]);
}

pub fn find_series_by_every_reference_kind(h: &dyn Harness) {
    let mut store = h.open();
    insert(
        store.as_mut(),
        &[
            message("v1c@x", Kind::Cover, "[PATCH 0/1] v1"),
            message("v1p1@x", Kind::Patch, "[PATCH 1/1] v1"),
            reply("r1", "v1p1@x", &["v1c@x", "v1p1@x"], &[]),
            reply("r2", "r1", &["v1c@x", "v1p1@x", "r1"], &[]),
            message("lonely", Kind::Other, "not in a thread"),
        ],
    );
    let changes = crate::testkit::apply(&mut *store, &two_revisions(), 100).expect("apply");
    let (v1, v2) = (changes.new_ids[0], changes.new_ids[1]);
    let topic = store.get_series(v1).expect("get").expect("v1").topic;

    assert_eq!(find(&*store, &v1.to_string()), Some(v1), "integer id");
    assert_eq!(find(&*store, "v1c@x"), Some(v1), "cover letter");
    assert_eq!(find(&*store, "<v1c@x>"), Some(v1), "with angle brackets");
    assert_eq!(find(&*store, " v1p1@x "), Some(v1), "patch, padded");
    assert_eq!(find(&*store, "r1"), Some(v1), "reply to a patch");
    assert_eq!(find(&*store, "<r2>"), Some(v1), "reply to a reply");
    assert_eq!(
        find(&*store, "https://lore.kernel.org/kvm/v2p1@x/T/#u"),
        Some(v2),
        "a link names its Message-ID"
    );
    assert_eq!(
        find(&*store, "https://lore.kernel.org/r/v1c@x"),
        Some(v1),
        "lore's short link"
    );
    assert_eq!(
        find(&*store, "https://lore.kernel.org/kvm/%3Cr2%3E/"),
        None,
        "a list link needs an `@` to name a message"
    );
    assert_eq!(
        find(&*store, "https://lore.kernel.org/r/r2"),
        Some(v1),
        "the short link needs none"
    );
    assert_eq!(
        find(&*store, &format!("topic:{topic}")),
        Some(v2),
        "topic id"
    );
    assert_eq!(find(&*store, "topic:v1c@x"), Some(v2), "topic key");
    assert_eq!(find(&*store, "topic:<v1c@x>"), Some(v2));
    assert_eq!(find(&*store, "lonely"), None);
    assert_eq!(find(&*store, "nowhere@x"), None);
    assert_eq!(find(&*store, "999999"), None);
    assert_eq!(find(&*store, "topic:999999"), None);
}

pub fn merged_away_series_resolves_to_survivor(h: &dyn Harness) {
    let mut store = h.open();
    let first = crate::testkit::apply(
        &mut *store,
        &assembly(vec![
            series("p1", None, &[(1, "p1"), (2, "p2")], 3),
            series("p3", None, &[(3, "p3")], 3),
        ]),
        100,
    )
    .expect("apply");
    let [kept, gone] = [first.new_ids[0], first.new_ids[1]];

    let whole = series("c", Some("c"), &[(1, "p1"), (2, "p2"), (3, "p3")], 3);
    let second = crate::testkit::apply(&mut *store, &assembly(vec![whole]), 200).expect("apply");
    assert_eq!((second.new, second.updated, second.merged), (0, 1, 1));

    let rec = store
        .get_series(gone)
        .expect("get")
        .expect("kept on record");
    assert_eq!(rec.merged_into, Some(kept));
    let listed: Vec<i64> = store
        .list_series(&SeriesFilter::default())
        .expect("list")
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, vec![kept]);
    assert_eq!(find(&*store, &gone.to_string()), Some(kept));
    assert_eq!(find(&*store, "p3"), Some(kept));
    let last = store.events(gone).expect("events").pop().expect("event");
    assert_eq!(last.event.kind, EventKind::Absorbed);
    assert_eq!(last.event.detail["into"], json!(kept));
    let patches = store.series_patches(kept).expect("patches");
    assert_eq!(
        patches.iter().map(|p| p.index).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );

    let again = crate::testkit::apply(
        &mut *store,
        &assembly(vec![series(
            "c",
            Some("c"),
            &[(1, "p1"), (2, "p2"), (3, "p3")],
            3,
        )]),
        300,
    )
    .expect("apply");
    assert_eq!((again.unchanged, again.merged), (1, 0));
}

pub fn collected_trailers_are_persisted_per_patch(h: &dyn Harness) {
    let mut store = h.open();
    let mut p1 = message("t1", Kind::Patch, "[PATCH 1/2] one");
    p1.trailers = vec![trailer("Signed-off-by", "Ada <ada@example.org>")];
    insert(
        store.as_mut(),
        &[p1, message("t2", Kind::Patch, "[PATCH 2/2] two")],
    );
    let mut s = series("t1", None, &[(1, "t1"), (2, "t2")], 2);
    s.patches[1].collected = vec![collected("Reviewed-by", "B <b@x>", "rb@x")];
    let id = crate::testkit::apply(&mut *store, &assembly(vec![s.clone()]), 100)
        .expect("apply")
        .new_ids[0];

    let patches = store.series_patches(id).expect("patches");
    assert_eq!(patches.len(), 2);
    assert_eq!(patches[0].subject, "[PATCH 1/2] one");
    assert_eq!(
        patches[0].trailers,
        vec![trailer("Signed-off-by", "Ada <ada@example.org>")]
    );
    assert!(patches[0].collected.is_empty());
    assert_eq!(patches[1].collected, s.patches[1].collected);
    assert_eq!(patches[1].author.email, "ada@example.org");

    s.patches[0].collected = vec![collected("Tested-by", "C <c@x>", "tb@x")];
    let changes = crate::testkit::apply(&mut *store, &assembly(vec![s]), 200).expect("apply");
    assert_eq!(changes.updated, 1);
    let updated = store
        .events(id)
        .expect("events")
        .pop()
        .expect("event")
        .event;
    assert_eq!(updated.kind, EventKind::Updated);
    assert_eq!(updated.detail["trailers_added"], json!(1));
    assert_eq!(updated.detail["patches_added"], json!([]));

    let detail = store.series_detail(id).expect("detail").expect("stored");
    assert_eq!(detail.cover, None);
    assert_eq!(detail.patches[0].collected.len(), 1);
    assert!(matches!(
        store.series_patches(424242),
        Err(Error::NoSuchSeries(424242))
    ));
}

pub fn topic_ids_are_stable_across_revisions(h: &dyn Harness) {
    let mut store = h.open();
    let changes = crate::testkit::apply(&mut *store, &two_revisions(), 100).expect("apply");
    let (v1, v2) = (changes.new_ids[0], changes.new_ids[1]);
    let topic = store.get_series(v1).expect("get").expect("v1").topic;
    assert_eq!(store.get_series(v2).expect("get").expect("v2").topic, topic);
    let revs: Vec<i64> = store
        .topic_series(topic)
        .expect("topic")
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(revs, vec![v1, v2], "oldest revision first");

    let mut a = two_revisions();
    let mut v3 = series("v3c@x", Some("v3c@x"), &[(1, "v3p1@x")], 1);
    v3.version = 3;
    v3.topic = "v1c@x".into();
    for s in &mut a.series {
        s.superseded_by = Some("v3c@x".into());
    }
    a.series.push(v3);
    let a = assembly(a.series);
    let changes = crate::testkit::apply(&mut *store, &a, 200).expect("apply");
    let v3 = changes.new_ids[0];
    assert_eq!(store.get_series(v3).expect("get").expect("v3").topic, topic);
    assert_eq!(
        store.find_series(&format!("topic:{topic}")).expect("find"),
        Some(v3)
    );
    assert_eq!(changes.superseded, 1, "only v2 newly superseded");
}

pub fn assembly_that_puts_a_mail_in_two_series_is_refused(h: &dyn Harness) {
    let mut store = h.open();
    let a = assembly(vec![
        series("x1", None, &[(1, "x1"), (2, "shared")], 2),
        series("y1", None, &[(1, "y1"), (2, "shared")], 2),
    ]);
    match crate::testkit::apply(&mut *store, &a, 100) {
        Err(Error::AssemblyConflict { message_id, .. }) => assert_eq!(message_id, "shared"),
        other => panic!("expected an assembly conflict, got {other:?}"),
    }
    assert!(store
        .list_series(&SeriesFilter::default())
        .expect("list")
        .is_empty());
}

pub fn state_is_derived_from_events(h: &dyn Harness) {
    let mut store = h.open();
    let id = crate::testkit::apply(
        &mut *store,
        &assembly(vec![series("s1", None, &[(1, "s1")], 1)]),
        100,
    )
    .expect("apply")
    .new_ids[0];
    for (at, kind) in [
        (110, "applying"),
        (120, "testing"),
        (130, "run-finished"),
        (140, "tested-pass"),
        (150, "in-next"), // not allowed from tested-pass: history only
    ] {
        let event = Event {
            at,
            kind: EventKind::from(kind),
            actor: "worker-1".into(),
            detail: json!({ "note": kind }),
        };
        store.append_event(id, &event).expect("append");
    }
    let events = store.events(id).expect("events");
    let derived = state_from_events(events.iter().map(|e| &e.event.kind));
    assert_eq!(derived, State::TestedPass);
    assert_eq!(
        store.get_series(id).expect("get").expect("s").state,
        derived
    );
    assert_eq!(
        events.last().map(|e| e.event.detail["note"].clone()),
        Some(json!("in-next"))
    );
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));

    let missing = Event {
        at: 1,
        kind: EventKind::Withdrawn,
        actor: "x".into(),
        detail: json!(null),
    };
    assert!(matches!(
        store.append_event(999_999, &missing),
        Err(Error::NoSuchSeries(999_999))
    ));
}

pub fn list_filters_by_state_and_topic(h: &dyn Harness) {
    let mut store = h.open();
    let changes = crate::testkit::apply(&mut *store, &two_revisions(), 100).expect("apply");
    let (v1, v2) = (changes.new_ids[0], changes.new_ids[1]);
    let other = crate::testkit::apply(
        &mut *store,
        &{
            let mut a = two_revisions();
            a.series.push(series("z1", None, &[(1, "z1")], 1));
            assembly(a.series)
        },
        200,
    )
    .expect("apply")
    .new_ids[0];
    let ids = |f: SeriesFilter| -> Vec<i64> {
        store
            .list_series(&f)
            .expect("list")
            .iter()
            .map(|s| s.id)
            .collect()
    };
    assert_eq!(
        ids(SeriesFilter::default()),
        vec![other, v2, v1],
        "newest first"
    );
    let superseded = SeriesFilter {
        state: Some(State::Superseded),
        ..SeriesFilter::default()
    };
    assert_eq!(ids(superseded), vec![v1]);
    let topic = store.get_series(v1).expect("get").expect("v1").topic;
    let of_topic = SeriesFilter {
        topic: Some(topic),
        ..SeriesFilter::default()
    };
    assert_eq!(ids(of_topic), vec![v2, v1]);
    let limited = SeriesFilter {
        limit: Some(1),
        ..SeriesFilter::default()
    };
    assert_eq!(ids(limited), vec![other]);
}
