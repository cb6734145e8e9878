//! Real list mail: patchwork's series fixtures must group as patchwork's own
//! tests expect, the demo archive must form one topic of four revisions, and
//! a year of kvm-unit-tests postings must lose no patch.
//!
//! The data lives in the shared data directory beside the repository; a test
//! whose file is absent prints a note and passes, so the crate still tests
//! on its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use patchgate_mail::Kind;
use patchgate_series::{assemble, Assembly, Mail, Series};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// The mails of an mbox under the data directory, or `None` (with a note)
/// when the file is not there.
fn load(rel: &str) -> Option<Vec<Mail>> {
    let path = data_dir().join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => Some(
            patchgate_mail::mbox::split(&bytes)
                .map(|raw| Mail::from(&patchgate_mail::parse(&raw)))
                .collect(),
        ),
        Err(e) => {
            println!("skipping: {} not readable: {e}", path.display());
            None
        }
    }
}

/// What one series must look like: cover letter present, patch count,
/// version, complete.
#[derive(Debug, PartialEq, Eq)]
struct Expect {
    cover: bool,
    patches: usize,
    version: u32,
    complete: bool,
}

const fn s(cover: bool, patches: usize, version: u32, complete: bool) -> Expect {
    Expect {
        cover,
        patches,
        version,
        complete,
    }
}

/// Series in the order they were sent (received, then key).
fn by_date(a: &Assembly) -> Vec<&Series> {
    let mut v: Vec<&Series> = a.series.iter().collect();
    v.sort_by(|x, y| (x.date, &x.key).cmp(&(y.date, &y.key)));
    v
}

fn check(file: &str, expected: &[Expect]) {
    let Some(mails) = load(&format!("patchwork-series-fixtures/{file}")) else {
        return;
    };
    let a = assemble(&mails);
    let got: Vec<Expect> = by_date(&a)
        .iter()
        .map(|x| s(x.cover.is_some(), x.patches.len(), x.version, x.complete))
        .collect();
    assert_eq!(got, expected, "{file}: {:#?}", a.series);
}

// Expectations follow patchwork's tests/unit/test_series.py: the number of
// series, the patches and cover letter of each, completeness where it checks
// it. Versions are what the subjects say.

#[test]
fn patchwork_base_single_patch() {
    check("base-single-patch.mbox", &[s(false, 1, 1, true)]);
}

#[test]
fn patchwork_base_cover_letter() {
    check("base-cover-letter.mbox", &[s(true, 2, 1, true)]);
}

#[test]
fn patchwork_base_no_cover_letter() {
    check("base-no-cover-letter.mbox", &[s(false, 2, 1, true)]);
}

#[test]
fn patchwork_base_deep_threaded() {
    check("base-deep-threaded.mbox", &[s(true, 2, 1, true)]);
}

#[test]
fn patchwork_base_out_of_order() {
    check("base-out-of-order.mbox", &[s(true, 2, 1, true)]);
}

#[test]
fn patchwork_base_different_versions_cover_v3_unlabeled_patches() {
    check("base-different-versions.mbox", &[s(true, 4, 3, true)]);
}

#[test]
fn patchwork_bugs_multiple_references() {
    check("bugs-multiple-references.mbox", &[s(true, 4, 2, true)]);
}

#[test]
fn patchwork_base_no_references() {
    check("base-no-references.mbox", &[s(false, 2, 2, true)]);
}

#[test]
fn patchwork_base_no_references_no_cover() {
    check("base-no-references-no-cover.mbox", &[s(true, 2, 1, true)]);
}

#[test]
fn patchwork_bugs_multiple_content_types_reply_is_no_patch() {
    check("bugs-multiple-content-types.mbox", &[s(false, 1, 1, true)]);
}

#[test]
fn patchwork_revision_basic() {
    check(
        "revision-basic.mbox",
        &[s(true, 2, 1, true), s(true, 2, 2, true)],
    );
}

#[test]
fn patchwork_revision_threaded_to_single_patch() {
    check(
        "revision-threaded-to-single-patch.mbox",
        &[s(false, 1, 1, true), s(false, 1, 2, true)],
    );
}

#[test]
fn patchwork_revision_threaded_to_cover() {
    check(
        "revision-threaded-to-cover.mbox",
        &[s(true, 2, 1, true), s(true, 2, 2, true)],
    );
}

#[test]
fn patchwork_revision_threaded_to_patch() {
    check(
        "revision-threaded-to-patch.mbox",
        &[s(true, 2, 1, true), s(true, 2, 2, true)],
    );
}

#[test]
fn patchwork_revision_out_of_order() {
    check(
        "revision-out-of-order.mbox",
        &[s(true, 2, 1, true), s(true, 2, 2, true)],
    );
}

#[test]
fn patchwork_revision_no_cover_letter() {
    check(
        "revision-no-cover-letter.mbox",
        &[s(true, 2, 1, true), s(false, 2, 2, true)],
    );
}

#[test]
fn patchwork_revision_unlabeled() {
    check(
        "revision-unlabeled.mbox",
        &[s(true, 2, 1, true), s(true, 2, 1, true)],
    );
}

#[test]
fn patchwork_revision_unlabeled_noreferences() {
    check(
        "revision-unlabeled-noreferences.mbox",
        &[s(false, 2, 2, true), s(false, 2, 2, true)],
    );
}

#[test]
fn patchwork_bugs_unnumbered_diff_is_its_own_series() {
    check(
        "bugs-unnumbered.mbox",
        &[s(true, 1, 1, false), s(false, 1, 1, true)],
    );
}

#[test]
fn patchwork_bugs_nocover_noversion() {
    check(
        "bugs-nocover-noversion.mbox",
        &[s(false, 2, 1, true), s(false, 2, 1, true)],
    );
}

#[test]
fn patchwork_bugs_nocover() {
    check(
        "bugs-nocover.mbox",
        &[s(false, 2, 1, true), s(false, 2, 2, true)],
    );
}

#[test]
fn patchwork_bugs_spamming_three_separate_series() {
    check(
        "bugs-spamming.mbox",
        &[
            s(false, 1, 2, false),
            s(false, 1, 2, false),
            s(false, 1, 2, false),
        ],
    );
}

#[test]
fn patchwork_bugs_mixed_versions() {
    check(
        "bugs-mixed-versions.mbox",
        &[s(false, 1, 1, false), s(false, 1, 2, false)],
    );
}

#[test]
fn patchwork_base_incomplete() {
    check("base-incomplete.mbox", &[s(true, 1, 1, false)]);
}

#[test]
fn patchwork_base_extra_patches_still_complete() {
    check("base-extra-patches.mbox", &[s(true, 3, 1, true)]);
}

#[test]
fn patchwork_mercurial_cover_letter() {
    check("mercurial-cover-letter.mbox", &[s(true, 2, 1, true)]);
}

#[test]
fn patchwork_mercurial_no_cover_letter() {
    check("mercurial-no-cover-letter.mbox", &[s(false, 2, 1, true)]);
}

#[test]
fn patchwork_dependency_base_patch() {
    check("dependency-base-patch.mbox", &[s(true, 2, 1, true)]);
}

// revision-no-cover-letter is left out: its v2 has no cover letter, so its
// title ("test: Add some lorem ipsum") differs from v1's cover title, and it
// neither answers v1 nor carries a change-id. Nothing links them.
#[test]
fn patchwork_revisions_link_into_one_topic_and_the_newer_supersedes() {
    for file in [
        "revision-basic.mbox",
        "revision-threaded-to-cover.mbox",
        "revision-threaded-to-patch.mbox",
        "revision-out-of-order.mbox",
        "revision-threaded-to-single-patch.mbox",
        "bugs-nocover.mbox",
        "bugs-nocover-noversion.mbox",
    ] {
        let Some(mails) = load(&format!("patchwork-series-fixtures/{file}")) else {
            return;
        };
        let a = assemble(&mails);
        assert_eq!(a.topics.len(), 1, "{file}: {:#?}", a.topics);
        let order = by_date(&a);
        assert_eq!(
            order[0].superseded_by.as_deref(),
            Some(order[1].key.as_str()),
            "{file}"
        );
        assert_eq!(order[1].superseded_by, None, "{file}");
    }
}

// ---------------------------------------------------------------- demo

const V1: &str = "20220718154910.3923412-1-ricarkol@google.com";
const V2: &str = "20220803182328.2438598-1-ricarkol@google.com";
const V3: &str = "20220805004139.990531-1-ricarkol@google.com";
const V4: &str = "20220811185210.234711-1-ricarkol@google.com";

#[test]
fn demo_four_revisions_form_one_topic_superseded_by_v4() {
    let Some(mails) = load("demo-arm-pmu-fixes-v1-v4.mbox") else {
        return;
    };
    let a = assemble(&mails);
    assert_eq!(a.series.len(), 4, "{:#?}", a.series);
    assert_eq!(a.topics.len(), 1, "{:#?}", a.topics);
    assert_eq!(a.topics[0].key, V1);
    assert_eq!(a.topics[0].series, [V1, V2, V3, V4]);
    for (key, version, total) in [(V1, 1, 3), (V2, 2, 3), (V3, 3, 3), (V4, 4, 4)] {
        let s = a.series.iter().find(|s| s.key == key);
        let s = s.unwrap_or_else(|| panic!("series {key} missing"));
        assert_eq!((s.version, s.total, s.complete), (version, total, true));
        assert_eq!(s.cover.as_deref(), Some(key));
        assert_eq!(s.topic, V1);
        assert_eq!(s.tags, ["kvm-unit-tests"]);
        assert_eq!(s.title, "arm: pmu: Fixes for bare metal");
        let expected = (key != V4).then_some(V4);
        assert_eq!(s.superseded_by.as_deref(), expected, "{key}");
    }
}

#[test]
fn demo_v4_patches_carry_marc_zyngiers_ack_from_the_cover_reply() {
    let Some(mails) = load("demo-arm-pmu-fixes-v1-v4.mbox") else {
        return;
    };
    let a = assemble(&mails);
    let v4 = a.series.iter().find(|s| s.key == V4);
    let v4 = v4.unwrap_or_else(|| panic!("v4 missing"));
    assert_eq!(v4.patches.len(), 4);
    for p in &v4.patches {
        assert!(
            p.collected.iter().any(|c| c.trailer.name == "Acked-by"
                && c.trailer.value == "Marc Zyngier <maz@kernel.org>"
                && c.from_message == "6f73b9c76d9fcdb61a1bb2ee0404159c@kernel.org"),
            "patch {} lacks the ack: {:#?}",
            p.index,
            p.collected
        );
    }
    // The v3 cover reply's Reviewed-by went to v3, not to v4.
    assert!(v4
        .patches
        .iter()
        .flat_map(|p| &p.collected)
        .all(|c| !c.trailer.value.contains("oliver.upton")));
}

#[test]
fn demo_review_trailers_reach_the_patch_answered() {
    let Some(mails) = load("demo-arm-pmu-fixes-v1-v4.mbox") else {
        return;
    };
    let a = assemble(&mails);
    let v2 = a.series.iter().find(|s| s.key == V2);
    let v2 = v2.unwrap_or_else(|| panic!("v2 missing"));
    let eric = |i: u32| {
        v2.patches.iter().any(|p| {
            p.index == i
                && p.collected
                    .iter()
                    .any(|c| c.trailer.value == "Eric Auger <eric.auger@redhat.com>")
        })
    };
    assert!(!eric(1) && eric(2) && eric(3));
}

// ---------------------------------------------------------------- a year of a list

#[test]
fn kvm_unit_tests_2022_forms_26_series_and_loses_no_patch() {
    let Some(mails) = load("kvmarm-kvm-unit-tests-2022.mbox") else {
        return;
    };
    assert_eq!(mails.len(), 230);
    let a = assemble(&mails);
    let posts: Vec<&Mail> = mails
        .iter()
        .filter(|m| matches!(m.kind, Kind::Patch | Kind::Cover) && !m.prefix.reply)
        .collect();
    let mut placed: Vec<&str> = a
        .series
        .iter()
        .flat_map(|s| {
            s.patches
                .iter()
                .map(|p| p.message_id.as_str())
                .chain(s.cover.as_deref())
        })
        .collect();
    placed.sort_unstable();
    let n = placed.len();
    placed.dedup();
    assert_eq!(n, placed.len(), "a mail sits in two series");
    let mut post_ids: Vec<&str> = posts.iter().map(|m| m.id.as_str()).collect();
    post_ids.sort_unstable();
    post_ids.dedup();
    assert_eq!(placed, post_ids, "every post in exactly one series");
    assert_eq!(posts.len(), 90);
    assert_eq!(a.series.iter().filter(|s| s.cover.is_some()).count(), 12);
    // The data README says 26 series, but its own selection holds 24 sets
    // of posts sent together (one git send-email run each, as their
    // Message-IDs show): 12 with a cover letter, 11 single patches, and one
    // 23-patch posting whose cover letter and 9 patches are not in the
    // selection (its 14 patches all answer the absent cover).
    assert_eq!(a.series.len(), 24, "{:#?}", summary(&a));
    let singles = a
        .series
        .iter()
        .filter(|s| s.total == 1 && s.cover.is_none());
    assert_eq!(singles.count(), 11);
    let coverless = a.series.iter().find(|s| s.cover.is_none() && s.total == 23);
    let coverless = coverless.unwrap_or_else(|| panic!("{:#?}", summary(&a)));
    assert_eq!(coverless.patches.len(), 14);
    assert_eq!(coverless.missing, [1, 2, 3, 4, 9, 10, 11, 14, 21]);

    // Revisions found in the year: pmu fixes v1..v4, PMUv3p5 v1..v2,
    // configure changes v1..v2, the debug noinline patch v1..v2.
    let topic_sizes = |title: &str| {
        let keys: Vec<&str> = a
            .series
            .iter()
            .filter(|s| s.title.starts_with(title))
            .map(|s| s.topic.as_str())
            .collect();
        (keys.len(), keys.windows(2).all(|w| w[0] == w[1]))
    };
    assert_eq!(topic_sizes("arm: pmu: Fixes for bare metal"), (4, true));
    assert_eq!(topic_sizes("arm: pmu: Add support for PMUv3p5"), (2, true));
    assert_eq!(topic_sizes("configure changes and rename"), (2, true));
    assert_eq!(topic_sizes("arm64: debug: mark test_"), (2, true));
    assert_eq!(a.topics.len(), 18, "{:#?}", summary(&a));

    // Every review trailer given in a reply reaches a patch (22 replies).
    let given: std::collections::HashSet<&str> = a
        .series
        .iter()
        .flat_map(|s| &s.patches)
        .flat_map(|p| p.collected.iter().map(|c| c.from_message.as_str()))
        .collect();
    let reviewing: Vec<&Mail> = mails
        .iter()
        .filter(|m| m.kind == Kind::Reply)
        .filter(|m| m.trailers.iter().any(|t| t.name.ends_with("-by")))
        .collect();
    assert_eq!(reviewing.len(), 22);
    for m in reviewing {
        assert!(
            given.contains(m.id.as_str()),
            "{}'s trailers were lost",
            m.id
        );
    }
}

/// The `git send-email` run a Message-ID names: `<date.pid-N-user@host>`
/// without its `N`.
fn send_email_run(id: &str) -> Option<String> {
    let (local, host) = id.split_once('@')?;
    let (stamp, rest) = local.split_once('-')?;
    let (n, user) = rest.split_once('-')?;
    n.parse::<u32>().ok()?;
    Some(format!("{stamp}-{user}@{host}"))
}

/// The keys of the series holding the posts of each send-email run.
fn series_of_each_run(a: &Assembly) -> BTreeMap<String, BTreeSet<&str>> {
    let mut runs: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for s in &a.series {
        let posts = s.patches.iter().map(|p| p.message_id.as_str());
        for id in posts.chain(s.cover.as_deref()) {
            let run = send_email_run(id).unwrap_or_else(|| panic!("{id}: not a send-email id"));
            runs.entry(run).or_default().insert(s.key.as_str());
        }
    }
    runs
}

#[test]
fn kvm_unit_tests_2022_each_send_email_run_is_one_series() {
    let Some(mails) = load("kvmarm-kvm-unit-tests-2022.mbox") else {
        return;
    };
    let a = assemble(&mails);
    let runs = series_of_each_run(&a);
    // Checked by hand: every post of the year has a send-email id, and the
    // 90 posts come from 24 runs.
    assert_eq!(runs.len(), 24);
    let split: Vec<_> = runs.iter().filter(|(_, keys)| keys.len() > 1).collect();
    assert!(split.is_empty(), "postings split: {split:#?}");
    assert_eq!(a.series.len(), runs.len(), "{:#?}", summary(&a));
    assert_eq!(a.series.iter().filter(|s| s.complete).count(), 23);
}

#[test]
fn kvm_unit_tests_2022_without_its_cover_letters_still_keeps_each_run_together() {
    // A sparse archive: every cover letter lost, the patches answering it
    // meet under the absent message.
    let Some(mails) = load("kvmarm-kvm-unit-tests-2022.mbox") else {
        return;
    };
    let sparse: Vec<Mail> = mails
        .into_iter()
        .filter(|m| m.kind != Kind::Cover)
        .collect();
    let a = assemble(&sparse);
    let runs = series_of_each_run(&a);
    let split: Vec<_> = runs.iter().filter(|(_, keys)| keys.len() > 1).collect();
    assert!(split.is_empty(), "postings split: {split:#?}");
    assert_eq!(a.series.len(), 24, "{:#?}", summary(&a));
}

fn summary(a: &Assembly) -> Vec<String> {
    a.series
        .iter()
        .map(|s| {
            format!(
                "{} v{} {}/{} cover={} {} [{}]",
                s.key,
                s.version,
                s.patches.len(),
                s.total,
                s.cover.is_some(),
                s.title,
                s.topic
            )
        })
        .collect()
}
