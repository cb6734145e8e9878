//! Scoped assembly: pending marks, closures over relation keys, and
//! reconciling part of the archive without touching the rest.

use super::{assembly, insert, message, reply, series, Harness};
use crate::SeriesFilter;
use patchgate_mail::Kind;

fn ids(mails: &[patchgate_series::Mail]) -> Vec<String> {
    let mut v: Vec<String> = mails.iter().map(|m| m.id.clone()).collect();
    v.sort();
    v
}

pub fn assembly_mails_are_pending_until_a_scoped_reconcile_covers_them(h: &dyn Harness) {
    let mut store = h.open();
    insert(
        store.as_mut(),
        &[
            message("p1@x", Kind::Patch, "[PATCH] one"),
            message("other@x", Kind::Other, "not for assembly"),
            message("p2@x", Kind::Patch, "[PATCH] two"),
        ],
    );
    assert_eq!(
        store.pending_assembly(10).expect("pending"),
        ["p1@x", "p2@x"],
        "assembly mails only, oldest first"
    );
    assert_eq!(store.pending_assembly(1).expect("pending"), ["p1@x"]);
    let a = assembly(vec![series("p1@x", None, &[(1, "p1@x")], 1)]);
    store
        .apply_assembly_scoped(&a, &["p1@x".to_string()], 100)
        .expect("apply");
    assert_eq!(store.pending_assembly(10).expect("pending"), ["p2@x"]);
    assert_eq!(store.count_series().expect("count"), 1);
}

pub fn closure_follows_threads_change_ids_and_titles_and_nothing_else(h: &dyn Harness) {
    let mut store = h.open();
    let mut cover = message("c0@x", Kind::Cover, "[PATCH 0/1] work");
    cover.prefix.index = Some(0);
    cover.prefix.total = Some(1);
    let mut patch = message("c1@x", Kind::Patch, "[PATCH 1/1] work part");
    patch.in_reply_to = Some("c0@x".into());
    patch.references = vec!["c0@x".into()];
    patch.prefix.index = Some(1);
    patch.prefix.total = Some(1);
    // A review trimmed to its parent only, under the patch.
    let review = reply("r@x", "c1@x", &[], &[("Reviewed-by", "B <b@x>")]);
    // A later revision, unthreaded, sharing the change-id of the first.
    let mut v2 = message("v2@x", Kind::Patch, "[PATCH v2] renamed work");
    v2.change_id = Some("20240101-work".into());
    v2.prefix.version = 2;
    patch.change_id = Some("20240101-work".into());
    // A resend under the same title by the same author.
    let resend = message("again@x", Kind::Patch, "[PATCH v2] Renamed   WORK");
    let stranger = message("far@x", Kind::Patch, "[PATCH] something else");
    insert(
        store.as_mut(),
        &[stranger, resend, review, v2, patch, cover],
    );
    // Taking the pending mail indexes its relation keys.
    assert_eq!(store.pending_assembly(100).expect("pending").len(), 6);

    let got = store
        .assembly_closure(&["r@x".to_string()])
        .expect("closure");
    assert_eq!(
        ids(&got),
        ["again@x", "c0@x", "c1@x", "r@x", "v2@x"],
        "thread, change-id and title reached; the stranger is not"
    );
    let alone = store
        .assembly_closure(&["far@x".to_string(), "nobody@x".to_string()])
        .expect("closure");
    assert_eq!(ids(&alone), ["far@x"]);
}

pub fn scoped_reconcile_leaves_series_outside_the_scope_alone(h: &dyn Harness) {
    let mut store = h.open();
    let whole = assembly(vec![
        series("a1", None, &[(1, "a1")], 1),
        series("b1", None, &[(1, "b1"), (2, "b2")], 2),
    ]);
    crate::testkit::apply(&mut *store, &whole, 100).expect("apply");
    let before = store.list_series(&SeriesFilter::default()).expect("list");

    // The part holding b gains a cover letter; a is not in the scope and
    // must not be taken for "no longer produced".
    let part = assembly(vec![series("b0", Some("b0"), &[(1, "b1"), (2, "b2")], 2)]);
    let scope: Vec<String> = ["b0", "b1", "b2"].iter().map(|s| s.to_string()).collect();
    let changes = store
        .apply_assembly_scoped(&part, &scope, 200)
        .expect("apply");
    assert_eq!((changes.new, changes.updated, changes.merged), (0, 1, 0));
    let after = store.list_series(&SeriesFilter::default()).expect("list");
    assert_eq!(after.len(), 2, "{after:#?}");
    let a_before = before.iter().find(|s| s.message_id == "a1");
    let a_after = after.iter().find(|s| s.message_id == "a1");
    assert_eq!(
        a_before, a_after,
        "the series outside the scope is untouched"
    );
    let b = after
        .iter()
        .find(|s| s.message_id == "b0")
        .expect("b now named by its cover");
    assert!(before.iter().any(|s| s.id == b.id), "b kept its id");

    // Applying the same part again changes nothing.
    let again = store
        .apply_assembly_scoped(&part, &scope, 300)
        .expect("apply");
    assert_eq!((again.new, again.updated, again.unchanged), (0, 0, 1));
}
