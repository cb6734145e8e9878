//! Series, topic and trailer rules, one test per behaviour, over hand-built
//! mails.

mod common;

use common::*;
use patchgate_mail::Kind;
use patchgate_series::assemble;

fn ids(s: &patchgate_series::Series) -> Vec<&str> {
    s.patches.iter().map(|p| p.message_id.as_str()).collect()
}

// ---------------------------------------------------------------- series

#[test]
fn cover_letter_and_patches_threaded_under_it_form_one_series() {
    let a = assemble(&mails(&[
        cover("c", 2, "A sample series"),
        patch("p1", 1, 2, "one").under("c").minute(1),
        patch("p2", 2, 2, "two").under("c").minute(2),
    ]));
    assert_eq!(a.series.len(), 1);
    let s = &a.series[0];
    assert_eq!(s.key, "c");
    assert_eq!(s.cover.as_deref(), Some("c"));
    assert_eq!(ids(s), ["p1", "p2"]);
    assert!(s.complete);
    assert!(s.missing.is_empty());
    assert_eq!(s.title, "A sample series");
}

#[test]
fn patches_threaded_under_patch_one_without_cover_form_one_series() {
    let a = assemble(&mails(&[
        patch("p1", 1, 3, "one"),
        patch("p2", 2, 3, "two").under("p1"),
        patch("p3", 3, 3, "three").under("p1"),
    ]));
    assert_eq!(a.series.len(), 1);
    assert_eq!(a.series[0].key, "p1");
    assert_eq!(a.series[0].title, "one");
    assert!(a.series[0].complete);
}

#[test]
fn deep_threaded_patches_each_replying_to_the_previous_form_one_series() {
    let a = assemble(&mails(&[
        cover("c", 3, "deep"),
        patch("p1", 1, 3, "one").under("c"),
        patch("p2", 2, 3, "two").irt("p1").refs(&["c", "p1"]),
        patch("p3", 3, 3, "three").irt("p2").refs(&["p2"]),
    ]));
    assert_eq!(a.series.len(), 1);
    assert_eq!(ids(&a.series[0]), ["p1", "p2", "p3"]);
}

#[test]
fn patches_replying_to_the_same_absent_parent_form_one_series() {
    let a = assemble(&mails(&[
        patch("p1", 1, 2, "one").under("lost-cover"),
        patch("p2", 2, 2, "two").under("lost-cover").minute(300),
    ]));
    assert_eq!(a.series.len(), 1);
    assert_eq!(a.series[0].cover, None);
    assert_eq!(ids(&a.series[0]), ["p1", "p2"]);
}

#[test]
fn unthreaded_patches_of_one_author_close_in_time_group_by_markers() {
    let a = assemble(&mails(&[
        cover("c", 2, "no refs").minute(0),
        patch("p1", 1, 2, "one").minute(1),
        patch("p2", 2, 2, "two").minute(9),
    ]));
    assert_eq!(shape(&a.series).len(), 1);
    assert_eq!(a.series[0].cover.as_deref(), Some("c"));
    assert!(a.series[0].complete);
}

#[test]
fn unthreaded_patches_far_apart_or_of_other_authors_or_versions_stay_apart() {
    let a = assemble(&mails(&[
        patch("p1", 1, 2, "one").minute(0),
        patch("late", 2, 2, "two").minute(200),
        patch("other", 2, 2, "two")
            .by("Bob", "bob@example.org")
            .minute(1),
        patch("v2", 2, 2, "two").v(2).minute(2),
    ]));
    assert_eq!(a.series.len(), 4);
}

#[test]
fn marker_window_is_measured_from_the_previous_unthreaded_post_only() {
    // Patch 1 came threaded under the cover two hours later; patch 2,
    // unthreaded, is half an hour after patch 1 but hours after the cover:
    // it shares no relation key with the cover, so it must not join.
    let a = assemble(&mails(&[
        cover("c", 2, "no refs").minute(0),
        patch("p1", 1, 2, "one").minute(120).under("c"),
        patch("p2", 2, 2, "two").minute(150),
    ]));
    assert_eq!(a.series.len(), 2);
}

#[test]
fn a_series_of_zero_patches_is_never_complete() {
    let a = assemble(&mails(&[patch("p", 2, 0, "two of none")]));
    assert!(a.series.iter().all(|s| !s.complete), "{:?}", a.series);
}

#[test]
fn unthreaded_resend_with_same_numbering_becomes_a_new_series() {
    let a = assemble(&mails(&[
        patch("a1", 1, 2, "one").v(2).minute(0),
        patch("a2", 2, 2, "two").v(2).minute(8),
        patch("b1", 1, 2, "one").v(2).minute(60),
        patch("b2", 2, 2, "two").v(2).minute(68),
    ]));
    let s = shape(&a.series);
    assert_eq!(s.len(), 2, "{s:?}");
    assert_eq!(ids(find(&a.series, "a1")), ["a1", "a2"]);
    assert_eq!(ids(find(&a.series, "b1")), ["b1", "b2"]);
}

#[test]
fn repeated_postings_of_patch_one_in_quick_succession_are_separate_series() {
    let a = assemble(&mails(&[
        patch("x", 1, 4, "tagging").minute(0),
        patch("y", 1, 4, "tagging").minute(2),
        patch("z", 1, 4, "tagging").minute(4),
    ]));
    assert_eq!(a.series.len(), 3);
    assert!(a.series.iter().all(|s| s.missing == [2, 3, 4]));
}

#[test]
fn single_unnumbered_patch_is_a_series_of_one() {
    let a = assemble(&mails(&[single("s", "fix a typo")]));
    let s = &a.series[0];
    assert_eq!((s.total, s.patches[0].index, s.complete), (1, 1, true));
}

#[test]
fn unnumbered_patch_in_reply_to_a_cover_is_its_own_series() {
    let a = assemble(&mails(&[
        cover("c", 2, "series"),
        patch("p1", 1, 2, "one").under("c"),
        single("orphan", "orphaned diff").under("c"),
    ]));
    assert_eq!(a.series.len(), 2);
    assert_eq!(ids(find(&a.series, "c")), ["p1"]);
    assert_eq!(find(&a.series, "c").missing, [2]);
    assert_eq!(ids(find(&a.series, "orphan")), ["orphan"]);
}

#[test]
fn duplicate_deliveries_of_one_message_id_count_once() {
    let p1 = patch("p1", 1, 2, "one").under("c");
    let a = assemble(&mails(&[
        cover("c", 2, "dup"),
        p1.clone(),
        p1.clone(),
        patch("p2", 2, 2, "two").under("c"),
        cover("c", 2, "dup"),
    ]));
    assert_eq!(a.series.len(), 1);
    assert_eq!(ids(&a.series[0]), ["p1", "p2"]);
}

#[test]
fn patches_arriving_before_their_cover_still_join_it() {
    let a = assemble(&mails(&[
        patch("p2", 2, 2, "two").under("c").minute(2),
        patch("p1", 1, 2, "one").under("c").minute(1),
        cover("c", 2, "late cover").minute(0),
    ]));
    assert_eq!(a.series.len(), 1);
    assert_eq!(a.series[0].cover.as_deref(), Some("c"));
}

#[test]
fn incomplete_series_lists_missing_indices() {
    let a = assemble(&mails(&[
        cover("c", 4, "partial"),
        patch("p2", 2, 4, "two").under("c"),
    ]));
    let s = &a.series[0];
    assert!(!s.complete);
    assert_eq!(s.missing, [1, 3, 4]);
}

#[test]
fn cover_without_patches_is_not_complete() {
    let a = assemble(&mails(&[cover("c", 0, "empty")]));
    assert!(!a.series[0].complete);
}

#[test]
fn v2_cover_in_reply_to_v1_cover_is_its_own_series() {
    let a = assemble(&mails(&[
        cover("c1", 2, "work"),
        patch("a1", 1, 2, "one").under("c1"),
        patch("a2", 2, 2, "two").under("c1"),
        cover("c2", 2, "work").v(2).under("c1").minute(30),
        patch("b1", 1, 2, "one").v(2).irt("c2").refs(&["c1", "c2"]),
        patch("b2", 2, 2, "two").v(2).irt("c2").refs(&["c1", "c2"]),
    ]));
    assert_eq!(a.series.len(), 2);
    assert_eq!(ids(find(&a.series, "c1")), ["a1", "a2"]);
    assert_eq!(ids(find(&a.series, "c2")), ["b1", "b2"]);
    assert_eq!(find(&a.series, "c2").version, 2);
}

#[test]
fn v2_patches_in_reply_to_v1_without_cover_are_their_own_series() {
    let a = assemble(&mails(&[
        patch("a1", 1, 2, "one"),
        patch("a2", 2, 2, "two").under("a1"),
        patch("b1", 1, 2, "one").v(2).under("a1").minute(10),
        patch("b2", 2, 2, "two").v(2).under("b1").minute(10),
    ]));
    assert_eq!(a.series.len(), 2);
    assert_eq!(ids(find(&a.series, "b1")), ["b1", "b2"]);
}

#[test]
fn unlabeled_resend_in_reply_to_a_complete_series_becomes_a_new_series() {
    let a = assemble(&mails(&[
        patch("a1", 1, 2, "one"),
        patch("a2", 2, 2, "two").under("a1"),
        patch("b1", 1, 2, "one").under("a1").minute(10),
        patch("b2", 2, 2, "two").under("b1").minute(10),
    ]));
    assert_eq!(a.series.len(), 2);
    assert_eq!(ids(find(&a.series, "a1")), ["a1", "a2"]);
    assert_eq!(ids(find(&a.series, "b1")), ["b1", "b2"]);
}

#[test]
fn unlabeled_patches_directly_under_a_labeled_cover_join_it() {
    let a = assemble(&mails(&[
        cover("c", 2, "work (v3)").v(3),
        patch("p1", 1, 2, "one").under("c"),
        patch("p2", 2, 2, "two").under("c"),
    ]));
    assert_eq!(a.series.len(), 1);
    assert_eq!(a.series[0].version, 3);
}

#[test]
fn replies_never_become_patches_even_with_a_diff() {
    let mut suggestion = reply("r", "p1", &["p1"]).kind(Kind::Patch);
    suggestion.0.prefix.index = Some(2);
    suggestion.0.prefix.total = Some(2);
    let a = assemble(&mails(&[
        patch("p1", 1, 2, "one"),
        suggestion,
        reply("d", "p1", &["p1"]).kind(Kind::Other),
    ]));
    assert_eq!(a.series.len(), 1);
    assert_eq!(ids(&a.series[0]), ["p1"]);
}

#[test]
fn another_senders_patch_sent_with_the_cover_joins_it() {
    let a = assemble(&mails(&[
        cover("c", 2, "work"),
        patch("p1", 1, 2, "one").under("c"),
        patch("p2", 2, 2, "two")
            .under("c")
            .by("Bob", "bob@example.org"),
    ]));
    assert_eq!(shape(&a.series).len(), 1, "{:#?}", shape(&a.series));
    assert!(a.series[0].complete);
}

#[test]
fn another_authors_patch_answering_the_cover_later_is_a_follow_up() {
    let a = assemble(&mails(&[
        cover("c", 2, "work"),
        patch("p1", 1, 2, "one").under("c"),
        patch("p2", 2, 2, "other")
            .under("c")
            .by("Bob", "bob@example.org")
            .minute(24 * 60),
    ]));
    assert_eq!(a.series.len(), 2);
}

#[test]
fn a_strangers_post_never_displaces_a_patch_of_the_posting() {
    // Bob's 2/2 claims an earlier Date than Ada's own 2/2.
    let a = assemble(&mails(&[
        cover("c", 2, "work").minute(0),
        patch("p1", 1, 2, "one").under("c").minute(1),
        patch("bob", 2, 2, "forged")
            .under("c")
            .by("Bob", "bob@example.org")
            .minute(1),
        patch("p2", 2, 2, "two").under("c").minute(2),
    ]));
    assert_eq!(ids(find(&a.series, "c")), ["p1", "p2"]);
    assert_eq!(ids(find(&a.series, "bob")), ["bob"]);
}

#[test]
fn a_strangers_post_never_makes_a_posting_longer_than_its_n() {
    let a = assemble(&mails(&[
        cover("c", 2, "work"),
        patch("p1", 1, 2, "one").under("c"),
        patch("p2", 2, 2, "two").under("c"),
        patch("extra", 3, 3, "more")
            .under("c")
            .by("Bob", "bob@example.org"),
    ]));
    assert_eq!(ids(find(&a.series, "c")), ["p1", "p2"]);
}

#[test]
fn a_reroll_of_one_patch_under_the_old_cover_stays_apart() {
    let a = assemble(&mails(&[
        cover("c", 3, "work"),
        patch("p1", 1, 3, "one").under("c"),
        patch("p3", 3, 3, "three").under("c"),
        patch("v2", 2, 3, "two").v(2).under("c").minute(3 * 24 * 60),
    ]));
    assert_eq!(a.series.len(), 2);
    assert_eq!(find(&a.series, "c").missing, [2]);
}

#[test]
fn a_mislabelled_sibling_whose_index_is_taken_stays_apart() {
    let a = assemble(&mails(&[
        cover("c", 2, "work").v(3),
        patch("p1", 1, 2, "one").v(3).under("c"),
        patch("p2", 2, 2, "two").v(3).under("c"),
        patch("old", 2, 2, "two").v(2).under("c"),
    ]));
    assert_eq!(ids(find(&a.series, "c")), ["p1", "p2"]);
    assert_eq!(a.series.len(), 2);
}

#[test]
fn siblings_under_patch_one_of_a_coverless_posting_join_it_whoever_sent_them() {
    // A multi-author series sent as format-patch wrote it, each patch with
    // its author's From:, threaded under 1/3; 3/3 still says v1.
    let a = assemble(&mails(&[
        patch("p1", 1, 3, "one").v(2),
        patch("p2", 2, 3, "two")
            .v(2)
            .under("p1")
            .by("Bob", "bob@example.org"),
        patch("p3", 3, 3, "three").under("p1"),
    ]));
    assert_eq!(shape(&a.series).len(), 1, "{:#?}", shape(&a.series));
    assert!(a.series[0].complete);
}

#[test]
fn siblings_reach_the_series_their_root_joined() {
    // 2/3 (Bob) joins under 1/3; Carl's 3/3 answers Bob's 2/3, the root of
    // the series Bob's post started before it joined.
    let a = assemble(&mails(&[
        cover("c", 3, "work"),
        patch("p1", 1, 3, "one").under("c"),
        patch("p2", 2, 3, "two")
            .under("c")
            .by("Bob", "bob@example.org"),
        patch("p3", 3, 3, "three")
            .under("p2")
            .by("Carl", "carl@example.org"),
    ]));
    assert_eq!(shape(&a.series).len(), 1, "{:#?}", shape(&a.series));
    assert!(a.series[0].complete);
}

#[test]
fn undated_siblings_are_never_joined_by_time() {
    let a = assemble(&mails(&[
        cover("c", 2, "work"),
        patch("p1", 1, 2, "one").under("c"),
        patch("p2", 2, 2, "two").v(2).under("c").undated(),
    ]));
    assert_eq!(a.series.len(), 2);
}

#[test]
fn author_with_another_address_but_same_name_still_joins() {
    let a = assemble(&mails(&[
        cover("c", 1, "work"),
        patch("p1", 1, 1, "one")
            .under("c")
            .by("Ada Author", "ada@work.example"),
    ]));
    assert_eq!(a.series.len(), 1);
}

#[test]
fn series_fields_come_from_cover_else_first_patch() {
    let a = assemble(&mails(&[
        cover("c", 2, "Cover title")
            .v(3)
            .tag("kvm-unit-tests")
            .rfc()
            .minute(5),
        patch("p1", 1, 2, "one")
            .v(3)
            .under("c")
            .minute(2)
            .base_commit("abc")
            .change_id("cid-1"),
        patch("p2", 2, 2, "two").v(3).under("c").minute(7),
    ]));
    let s = &a.series[0];
    assert_eq!(s.title, "Cover title");
    assert_eq!(s.tags, ["kvm-unit-tests", "RFC"]);
    assert_eq!(s.date, Some(at(2)));
    assert_eq!(s.base_commit.as_deref(), Some("abc"));
    assert_eq!(s.change_id.as_deref(), Some("cid-1"));
    assert_eq!((s.version, s.total), (3, 2));
    assert_eq!(s.author.email, "ada@example.org");
}

#[test]
fn patch_with_index_above_total_joins_and_series_stays_complete() {
    let a = assemble(&mails(&[
        cover("c", 2, "work"),
        patch("p1", 1, 2, "one").under("c"),
        patch("p2", 2, 2, "two").under("c"),
        patch("p3", 3, 2, "extra").under("c"),
    ]));
    assert_eq!(a.series.len(), 1);
    assert_eq!(a.series[0].patches.len(), 3);
    assert!(a.series[0].complete);
}

#[test]
fn headers_answering_each_other_in_a_circle_do_not_hang_or_panic() {
    let a = assemble(&mails(&[
        patch("x", 1, 2, "one").irt("y"),
        patch("y", 2, 2, "two").irt("x"),
        reply("r1", "r2", &[]),
        reply("r2", "r1", &[]).trailer("Acked-by", "Z <z@z>"),
    ]));
    assert_eq!(a.series.iter().map(|s| s.patches.len()).sum::<usize>(), 2);
}

#[test]
fn hostile_total_does_not_allocate_a_huge_missing_list() {
    let a = assemble(&mails(&[cover("c", u32::MAX, "huge")]));
    // Parsing never gives such a count; a summary that holds one anyway
    // (stored before the limit) is still bounded.
    assert!(a.series[0].missing.len() <= patchgate_mail::subject::MAX_COUNT as usize);
    assert!(!a.series[0].complete);
}

// ---------------------------------------------------------------- topics

fn revision(v: u32, tag: &str, minute: i64, title: &str) -> Vec<B> {
    let c = format!("{tag}-c");
    vec![
        cover(&c, 2, title).v(v).minute(minute),
        patch(&format!("{tag}-1"), 1, 2, "one")
            .v(v)
            .under(&c)
            .minute(minute),
        patch(&format!("{tag}-2"), 2, 2, "two")
            .v(v)
            .under(&c)
            .minute(minute),
    ]
}

#[test]
fn same_author_and_title_with_higher_version_link_into_one_topic() {
    let mut all = revision(1, "a", 0, "Fixes for  bare metal");
    all.extend(revision(2, "b", 1000, "fixes for bare metal"));
    all.extend(revision(3, "c", 2000, "Fixes for bare metal"));
    let a = assemble(&mails(&all));
    assert_eq!(a.topics.len(), 1);
    assert_eq!(a.topics[0].key, "a-c");
    assert_eq!(a.topics[0].series, ["a-c", "b-c", "c-c"]);
    assert_eq!(find(&a.series, "a-c").superseded_by.as_deref(), Some("c-c"));
    assert_eq!(find(&a.series, "b-c").superseded_by.as_deref(), Some("c-c"));
    assert_eq!(find(&a.series, "c-c").superseded_by, None);
    assert!(a.series.iter().all(|s| s.topic == "a-c"));
}

#[test]
fn same_change_id_links_revisions_with_different_titles() {
    let mut all = revision(1, "a", 0, "Old title");
    all.extend(revision(2, "b", 1000, "New title"));
    all[0] = all[0].clone().change_id("20220101-work-abc");
    all[3] = all[3].clone().change_id("20220101-work-abc");
    let a = assemble(&mails(&all));
    assert_eq!(a.topics.len(), 1);
}

#[test]
fn newer_revision_answering_the_older_links_even_with_a_new_title() {
    let mut all = revision(1, "a", 0, "Old title");
    all.extend(revision(2, "b", 1000, "New title"));
    all[3] = all[3].clone().under("a-2");
    let a = assemble(&mails(&all));
    assert_eq!(a.topics.len(), 1);
    assert_eq!(a.topics[0].series, ["a-c", "b-c"]);
}

#[test]
fn newer_revision_answering_a_review_reply_of_the_older_links() {
    let mut all = revision(1, "a", 0, "Old title");
    all.push(reply("r", "a-1", &["a-c", "a-1"]));
    all.extend(revision(2, "b", 1000, "New title"));
    all[4] = all[4].clone().irt("r").refs(&["r"]);
    let a = assemble(&mails(&all));
    assert_eq!(a.topics.len(), 1);
}

#[test]
fn other_authors_series_with_the_same_title_is_another_topic() {
    let mut all = revision(1, "a", 0, "Cleanup");
    all.extend(
        revision(2, "b", 1000, "Cleanup")
            .into_iter()
            .map(|b| b.by("Bob", "bob@example.org")),
    );
    let a = assemble(&mails(&all));
    assert_eq!(a.topics.len(), 2);
    assert!(a.series.iter().all(|s| s.superseded_by.is_none()));
}

#[test]
fn same_title_same_version_without_resend_or_thread_is_not_a_revision() {
    let mut all = revision(1, "a", 0, "Cleanup");
    all.extend(revision(1, "b", 1000, "Cleanup"));
    assert_eq!(assemble(&mails(&all)).topics.len(), 2);
}

#[test]
fn resend_of_the_same_version_supersedes_the_earlier_posting() {
    let mut all = revision(2, "a", 0, "Work");
    all.extend(revision(2, "b", 1000, "Work").into_iter().map(B::resend));
    let a = assemble(&mails(&all));
    assert_eq!(a.topics.len(), 1);
    assert_eq!(find(&a.series, "a-c").superseded_by.as_deref(), Some("b-c"));
    assert_eq!(find(&a.series, "b-c").tags, ["RESEND"]);
}

#[test]
fn incomplete_newest_revision_supersedes_nothing() {
    let mut all = revision(1, "a", 0, "Work");
    let mut v2 = revision(2, "b", 1000, "Work");
    v2.pop();
    all.extend(v2);
    let a = assemble(&mails(&all));
    assert_eq!(a.topics.len(), 1);
    assert!(a.series.iter().all(|s| s.superseded_by.is_none()));
}

#[test]
fn superseded_by_names_the_newest_complete_revision_not_an_incomplete_newer_one() {
    let mut all = revision(1, "a", 0, "Work");
    all.extend(revision(2, "b", 1000, "Work"));
    let mut v3 = revision(3, "c", 2000, "Work");
    v3.pop();
    all.extend(v3);
    let a = assemble(&mails(&all));
    assert_eq!(find(&a.series, "a-c").superseded_by.as_deref(), Some("b-c"));
    assert_eq!(find(&a.series, "b-c").superseded_by, None);
    assert_eq!(find(&a.series, "c-c").superseded_by, None);
}

// ---------------------------------------------------------------- trailers

fn collected(s: &patchgate_series::Series, index: u32) -> Vec<(String, String)> {
    s.patches
        .iter()
        .find(|p| p.index == index)
        .map(|p| {
            p.collected
                .iter()
                .map(|c| (c.trailer.value.clone(), c.from_message.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn reply_trailers_go_to_the_patch_answered() {
    let mut all = revision(1, "a", 0, "Work");
    all.push(reply("r", "a-2", &["a-c", "a-2"]).trailer("Reviewed-by", "R <r@x>"));
    let a = assemble(&mails(&all));
    let s = &a.series[0];
    assert!(collected(s, 1).is_empty());
    assert_eq!(collected(s, 2), [("R <r@x>".into(), "r".into())]);
    assert_eq!(s.patches[1].collected[0].trailer.name, "Reviewed-by");
}

#[test]
fn reply_to_the_cover_gives_its_trailers_to_every_patch() {
    let mut all = revision(1, "a", 0, "Work");
    all.push(reply("r", "a-c", &["a-c"]).trailer("Acked-by", "M <m@x>"));
    let a = assemble(&mails(&all));
    for i in [1, 2] {
        assert_eq!(collected(&a.series[0], i), [("M <m@x>".into(), "r".into())]);
    }
}

#[test]
fn reply_to_a_reply_counts_for_the_post_at_the_root_of_the_chain() {
    let mut all = revision(1, "a", 0, "Work");
    all.push(reply("r1", "a-1", &["a-c", "a-1"]));
    // A client that kept only the last reference.
    all.push(reply("r2", "r1", &["r1"]).trailer("Tested-by", "T <t@x>"));
    let a = assemble(&mails(&all));
    assert_eq!(
        collected(&a.series[0], 1),
        [("T <t@x>".into(), "r2".into())]
    );
}

#[test]
fn collected_trailers_are_deduplicated_and_in_date_order() {
    let mut all = revision(1, "a", 0, "Work");
    all.push(
        reply("late", "a-1", &["a-1"])
            .minute(50)
            .trailer("Reviewed-by", "R <r@x>"),
    );
    all.push(
        reply("early", "a-1", &["a-1"])
            .minute(10)
            .trailer("Reviewed-by", "R <r@x>")
            .trailer("Tested-by", "R <r@x>"),
    );
    all.push(
        reply("cov", "a-c", &["a-c"])
            .minute(20)
            .trailer("Acked-by", "M <m@x>"),
    );
    let a = assemble(&mails(&all));
    let got: Vec<_> = a.series[0].patches[0]
        .collected
        .iter()
        .map(|c| (c.trailer.name.as_str(), c.from_message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("Reviewed-by", "early"),
            ("Tested-by", "early"),
            ("Acked-by", "cov")
        ]
    );
}

#[test]
fn only_person_trailers_are_collected_from_replies() {
    let mut all = revision(1, "a", 0, "Work");
    all.push(
        reply("r", "a-1", &["a-1"])
            .trailer("Link", "https://lore.kernel.org/r/elsewhere")
            .trailer("Fixes", "abcdef012345 (\"old\")")
            .trailer("Reported-by", "Q <q@x>"),
    );
    let a = assemble(&mails(&all));
    let names: Vec<&str> = a.series[0].patches[0]
        .collected
        .iter()
        .map(|c| c.trailer.name.as_str())
        .collect();
    assert_eq!(names, ["Reported-by"]);
}

#[test]
fn trailers_the_patch_already_carries_are_not_collected_again() {
    let mut all = revision(1, "a", 0, "Work");
    all[1] = all[1].clone().trailer("Reviewed-by", "R <r@x>");
    all.push(reply("r", "a-c", &["a-c"]).trailer("Reviewed-by", "R <r@x>"));
    let a = assemble(&mails(&all));
    assert!(collected(&a.series[0], 1).is_empty());
    assert_eq!(collected(&a.series[0], 2).len(), 1);
}

#[test]
fn trailers_given_to_one_revision_stay_with_it() {
    let mut all = revision(1, "a", 0, "Work");
    all.extend(revision(2, "b", 1000, "Work"));
    all.push(reply("r", "b-1", &["b-c", "b-1"]).trailer("Reviewed-by", "R <r@x>"));
    let a = assemble(&mails(&all));
    assert!(collected(find(&a.series, "a-c"), 1).is_empty());
    assert_eq!(collected(find(&a.series, "b-c"), 1).len(), 1);
}

#[test]
fn undated_mails_are_kept_and_never_grouped_by_time() {
    let a = assemble(&mails(&[
        patch("p1", 1, 2, "one").undated(),
        patch("p2", 2, 2, "two").undated(),
    ]));
    assert_eq!(a.series.len(), 2);
    assert_eq!(a.series[0].date, None);
}
