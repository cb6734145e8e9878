//! Acceptance on the real list archives: everything read, nothing unusable,
//! the series and topics the mail holds, reading twice changes nothing, and
//! the `--json` contract of `series list|show` (DESIGN.md) keeps its names.

use crate::util::{data, num, text, Dir};
use serde_json::Value;
use std::collections::BTreeSet;

pub const KVMARM: &str = "kvmarm-kvm-unit-tests-2022.mbox";
pub const PMU: &str = "demo-arm-pmu-fixes-v1-v4.mbox";

/// Cover letters of the four revisions of "arm: pmu: Fixes for bare metal".
pub const PMU_V1: &str = "20220718154910.3923412-1-ricarkol@google.com";
pub const PMU_V2: &str = "20220803182328.2438598-1-ricarkol@google.com";
pub const PMU_V3: &str = "20220805004139.990531-1-ricarkol@google.com";
pub const PMU_V4: &str = "20220811185210.234711-1-ricarkol@google.com";

/// Message-ID of patch `n` of v4.
pub fn pmu_v4_patch(n: u32) -> String {
    format!("20220811185210.234711-{}-ricarkol@google.com", n + 1)
}

pub const MARC_ACK: &str = "Marc Zyngier <maz@kernel.org>";

/// Every field DESIGN.md promises for a series object, plus those the store
/// prints today; a rename of any of them breaks scripts.
const SERIES_KEYS: [&str; 16] = [
    "id",
    "topic",
    "version",
    "subject",
    "author",
    "message_id",
    "total",
    "received",
    "date",
    "complete",
    "missing",
    "tags",
    "state",
    "superseded_by",
    "base_commit",
    "change_id",
];
const SHOW_KEYS: [&str; 2] = ["cover", "patches"];
const PATCH_KEYS: [&str; 6] = [
    "index",
    "message_id",
    "subject",
    "author",
    "trailers",
    "collected",
];

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v:#}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// `want` are all keys of `v`; extra keys are allowed (fields may be added).
fn assert_has_keys(v: &Value, want: &[&str], what: &str) {
    let have = keys(v);
    let missing: Vec<&&str> = want.iter().filter(|k| !have.contains(**k)).collect();
    assert!(
        missing.is_empty(),
        "{what} lacks {missing:?}; it has {have:?}"
    );
}

fn assert_person(v: &Value, what: &str) {
    assert_has_keys(v, &["name", "email"], what);
    assert!(
        v["name"].is_string() && v["email"].is_string(),
        "{what}: {v:#}"
    );
}

/// The series object's fields and their JSON types.
fn assert_series_shape(s: &Value) {
    assert_has_keys(s, &SERIES_KEYS, "series");
    for k in ["id", "topic", "version", "total", "received"] {
        assert!(s[k].is_u64(), "`{k}` is not a count: {s:#}");
    }
    for k in ["subject", "message_id", "state"] {
        assert!(s[k].is_string(), "`{k}` is not a string: {s:#}");
    }
    assert!(
        !text(s, "message_id").contains(['<', '>']),
        "Message-IDs are printed without angle brackets: {s:#}"
    );
    assert!(s["complete"].is_boolean(), "{s:#}");
    assert!(s["missing"].is_array() && s["tags"].is_array(), "{s:#}");
    assert!(s["date"].is_i64() || s["date"].is_null(), "{s:#}");
    let listed = s["missing"].as_array().map_or(0, Vec::len) as i64;
    assert_eq!(
        num(s, "received") + listed,
        num(s, "total"),
        "received and missing add up to total: {s:#}"
    );
    assert!(
        s["superseded_by"].is_u64() || s["superseded_by"].is_null(),
        "{s:#}"
    );
    assert_person(&s["author"], "series author");
}

fn by_message_id<'a>(list: &'a [Value], id: &str) -> &'a Value {
    list.iter()
        .find(|s| s["message_id"] == id)
        .unwrap_or_else(|| panic!("no series with message_id {id} in {list:#?}"))
}

#[test]
fn kvmarm_archive_reads_all_230_mails_none_unusable_into_24_series() {
    let dir = Dir::new();
    let summary = dir.ingest(&[&data(KVMARM)]);
    assert_eq!(num(&summary, "read"), 230, "{summary:#}");
    assert_eq!(num(&summary, "new"), 230, "{summary:#}");
    assert_eq!(summary["unusable"], serde_json::json!([]), "{summary:#}");
    // See crates/patchgate-series/tests/files.rs: the README's 26 counts
    // differently; the selection holds 24 postings.
    assert_eq!(num(&summary, "series_total"), 24, "{summary:#}");
    let list = dir.series();
    assert_eq!(list.len(), 24);
    for s in &list {
        assert_series_shape(s);
    }
    let complete = list.iter().filter(|s| s["complete"] == true).count();
    assert_eq!(
        complete, 23,
        "all but the 23-patch posting missing 9 patches"
    );
}

#[test]
fn reingesting_an_archive_stores_nothing_new_and_changes_no_series() {
    let dir = Dir::new();
    let file = data(KVMARM);
    dir.ingest(&[&file]);
    let before = dir.json(&["series", "list"]);
    let again = dir.ingest(&[&file]);
    assert_eq!(num(&again, "read"), 230, "{again:#}");
    assert_eq!(num(&again, "new"), 0, "{again:#}");
    assert_eq!(num(&again, "duplicates"), 230, "{again:#}");
    assert_eq!(num(&again, "series_new"), 0, "{again:#}");
    assert_eq!(num(&again, "series_updated"), 0, "{again:#}");
    let after = dir.json(&["series", "list"]);
    assert_eq!(before, after, "series changed on re-ingest");
}

#[test]
fn an_archive_concatenated_with_itself_is_stored_once() {
    let once = Dir::new();
    once.ingest(&[&data(KVMARM)]);

    let twice = Dir::new();
    let bytes = std::fs::read(data(KVMARM)).expect("archive readable");
    let doubled = twice.write("doubled.mbox", [bytes.as_slice(), &bytes].concat());
    let summary = twice.ingest(&[&doubled]);
    assert_eq!(num(&summary, "read"), 460, "{summary:#}");
    assert_eq!(num(&summary, "new"), 230, "{summary:#}");
    assert_eq!(num(&summary, "duplicates"), 230, "{summary:#}");
    assert_eq!(
        once.json(&["series", "list"]),
        twice.json(&["series", "list"]),
        "a file holding every mail twice gives other series than the file once"
    );
}

#[test]
fn pmu_fixes_v1_to_v4_are_one_topic_and_v4_supersedes_the_rest() {
    let dir = Dir::new();
    let summary = dir.ingest(&[&data(PMU)]);
    assert_eq!(num(&summary, "read"), 66, "{summary:#}");
    assert_eq!(summary["unusable"], serde_json::json!([]), "{summary:#}");
    let list = dir.series();
    assert_eq!(list.len(), 4, "{list:#?}");
    let topics: BTreeSet<i64> = list.iter().map(|s| num(s, "topic")).collect();
    assert_eq!(topics.len(), 1, "one topic expected: {list:#?}");

    let v4 = by_message_id(&list, PMU_V4);
    assert_eq!(num(v4, "version"), 4);
    assert_eq!(num(v4, "total"), 4);
    assert_eq!(text(v4, "state"), "new");
    assert!(v4["superseded_by"].is_null(), "{v4:#}");
    assert_eq!(text(v4, "subject"), "arm: pmu: Fixes for bare metal");
    assert_eq!(v4["tags"], serde_json::json!(["kvm-unit-tests"]));
    let v4_id = num(v4, "id");
    for (cover, version) in [(PMU_V1, 1), (PMU_V2, 2), (PMU_V3, 3)] {
        let s = by_message_id(&list, cover);
        assert_eq!(num(s, "version"), version, "{s:#}");
        assert_eq!(num(s, "total"), 3, "{s:#}");
        assert_eq!(s["complete"], true, "{s:#}");
        assert_eq!(text(s, "state"), "superseded", "{s:#}");
        assert_eq!(num(s, "superseded_by"), v4_id, "{s:#}");
    }

    // The state filter lists exactly the older revisions.
    let superseded = dir.json(&["series", "list", "--state", "superseded"]);
    let mut ids: Vec<&str> = superseded
        .as_array()
        .expect("an array")
        .iter()
        .map(|s| text(s, "message_id"))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [PMU_V1, PMU_V2, PMU_V3]);
    let new = dir.json(&["series", "list", "--state", "new"]);
    assert_eq!(new.as_array().map(Vec::len), Some(1), "{new:#}");
    assert_eq!(new[0]["message_id"], PMU_V4);
}

#[test]
fn series_show_of_pmu_v4_has_every_field_and_marc_ack_on_each_patch() {
    let dir = Dir::new();
    dir.ingest(&[&data(PMU)]);
    let show = dir.json(&["series", "show", PMU_V4]);
    assert_series_shape(&show);
    assert_has_keys(&show, &SHOW_KEYS, "series show");
    assert_has_keys(&show["cover"], &["message_id", "subject"], "cover");
    assert_eq!(show["cover"]["message_id"], PMU_V4);
    let patches = show["patches"].as_array().expect("patches is an array");
    assert_eq!(patches.len(), 4);
    for (i, p) in patches.iter().enumerate() {
        let n = i as u32 + 1;
        assert_has_keys(p, &PATCH_KEYS, "patch");
        assert_person(&p["author"], "patch author");
        assert_eq!(num(p, "index"), i64::from(n), "{p:#}");
        assert_eq!(text(p, "message_id"), pmu_v4_patch(n));
        for t in p["trailers"].as_array().expect("trailers is an array") {
            assert_has_keys(t, &["name", "value"], "trailer");
        }
        let signed = p["trailers"].as_array().expect("trailers").iter().any(|t| {
            t["name"] == "Signed-off-by" && t["value"] == "Ricardo Koller <ricarkol@google.com>"
        });
        assert!(signed, "patch {n} lost its own sign-off: {p:#}");
        let acked = p["collected"]
            .as_array()
            .expect("collected is an array")
            .iter()
            .any(|c| c["trailer"]["name"] == "Acked-by" && c["trailer"]["value"] == MARC_ACK);
        assert!(acked, "patch {n} lacks the collected ack: {p:#}");
    }
}

#[test]
fn series_show_finds_a_series_by_id_any_message_id_with_or_without_brackets_and_topic() {
    let dir = Dir::new();
    dir.ingest(&[&data(PMU)]);
    let want = dir.json(&["series", "show", PMU_V4]);
    let id = num(&want, "id").to_string();
    let topic = format!("topic:{}", num(&want, "topic"));
    let patch3 = pmu_v4_patch(3);
    let bracketed_cover = format!("<{PMU_V4}>");
    let bracketed_patch = format!("<{patch3}>");
    for reference in [
        id.as_str(),
        PMU_V4,
        &bracketed_cover,
        &patch3,
        &bracketed_patch,
        &topic,
    ] {
        let got = dir.json(&["series", "show", reference]);
        assert_eq!(got, want, "`series show {reference}` shows another series");
    }
    // A patch of an older revision names that revision, not the newest.
    let v1_patch = PMU_V1.replace("-1-", "-3-");
    let v1 = dir.json(&["series", "show", &v1_patch]);
    assert_eq!(num(&v1, "version"), 1, "{v1:#}");

    let out = dir.run(&["series", "show", "no-such@example.org"]).code(2);
    assert!(
        out.stderr.contains("no-such@example.org") && out.stderr.contains("topic:"),
        "the error says what was asked and what would work: {}",
        out.stderr
    );
}
