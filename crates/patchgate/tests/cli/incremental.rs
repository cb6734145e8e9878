//! Ingest assembles only the part of the archive new mail touches; the
//! result must be exactly what one ingest of everything gives: the same
//! series with the same members, topics, supersession and collected
//! trailers, whatever the number of pieces and their order.
//!
//! Series ids depend on arrival order, so two stores are compared by
//! content: each series is named by its member Message-IDs, and every id in
//! the output (series, topic, superseded-by) is replaced by such a name.

use crate::util::{data, mbox_of, message_id, num, split_mbox, Dir};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The mails of `mbox`, one per Message-ID (the first copy): the stored
/// copy of a repeated id is the first to arrive, so pieces in shuffled
/// order must not hold different copies.
fn unique_mails(mbox: &str) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(data(mbox)).expect("the archive is readable");
    let mut seen = HashSet::new();
    split_mbox(&bytes)
        .into_iter()
        .filter(|m| seen.insert(message_id(m)))
        .collect()
}

/// A small deterministic shuffle (xorshift), so a failure can be replayed.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = (seed % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// The member Message-IDs of a shown series, cover first, joined.
fn members(show: &Value) -> String {
    let mut ids: Vec<&str> = Vec::new();
    if let Some(cover) = show["cover"]["message_id"].as_str() {
        ids.push(cover);
    }
    for p in show["patches"].as_array().into_iter().flatten() {
        ids.push(p["message_id"].as_str().unwrap_or("?"));
    }
    ids.join(" ")
}

/// Every live series of the store, by members, with ids replaced by
/// members: the content that must not depend on how mail arrived.
fn content(dir: &Dir) -> BTreeMap<String, Value> {
    let shows: Vec<Value> = dir
        .series()
        .iter()
        .map(|s| dir.json(&["series", "show", &num(s, "id").to_string()]))
        .collect();
    let name: HashMap<i64, String> = shows.iter().map(|s| (num(s, "id"), members(s))).collect();
    // A topic is named by the smallest name of its series.
    let mut topic: HashMap<i64, String> = HashMap::new();
    for s in &shows {
        let t = topic.entry(num(s, "topic")).or_insert_with(|| members(s));
        if members(s) < *t {
            *t = members(s);
        }
    }
    let mut out = BTreeMap::new();
    for mut s in shows {
        let key = members(&s);
        s["id"] = Value::from(key.clone());
        s["topic"] = Value::from(topic[&num(&s, "topic")].clone());
        if let Some(by) = s["superseded_by"].as_i64() {
            s["superseded_by"] = Value::from(name.get(&by).cloned().unwrap_or_default());
        }
        assert!(
            out.insert(key.clone(), s).is_none(),
            "two series hold {key}"
        );
    }
    out
}

/// Ingest `mails` into a fresh store in pieces of `piece` mails (through
/// stdin, as an MTA delivers, when `piece` is 1) and return its content.
fn ingest_in_pieces(mails: &[Vec<u8>], piece: usize) -> BTreeMap<String, Value> {
    let dir = Dir::new();
    for (n, chunk) in mails.chunks(piece.max(1)).enumerate() {
        if piece == 1 {
            dir.run_with_stdin(&["ingest", "-"], &chunk[0]).code(0);
        } else {
            let file = dir.write(&format!("piece-{n}.mbox"), mbox_of(chunk));
            dir.ingest(&[&file]);
        }
    }
    content(&dir)
}

/// One ingest of everything, then pieces of `piece` in shuffled orders:
/// all must agree.
fn pieces_agree_with_whole(mbox: &str, piece: usize, seeds: &[u64]) {
    let mails = unique_mails(mbox);
    let whole = ingest_in_pieces(&mails, mails.len());
    assert!(!whole.is_empty(), "{mbox} gave no series at all");
    for &seed in seeds {
        let mut shuffled = mails.clone();
        shuffle(&mut shuffled, seed);
        let parts = ingest_in_pieces(&shuffled, piece);
        let (a, b): (Vec<&String>, Vec<&String>) = (whole.keys().collect(), parts.keys().collect());
        assert_eq!(a, b, "{mbox}, pieces of {piece}, seed {seed}: other series");
        for (key, w) in &whole {
            assert_eq!(
                w, &parts[key],
                "{mbox}, pieces of {piece}, seed {seed}: series {key} differs"
            );
        }
    }
}

#[test]
fn kvmarm_in_shuffled_pieces_equals_one_ingest() {
    pieces_agree_with_whole("kvmarm-kvm-unit-tests-2022.mbox", 7, &[1, 0x9e37_79b9]);
}

#[test]
fn pmu_revisions_one_message_at_a_time_equal_one_ingest() {
    pieces_agree_with_whole("demo-arm-pmu-fixes-v1-v4.mbox", 1, &[7]);
}

#[test]
fn pmu_revisions_in_shuffled_pieces_equal_one_ingest() {
    pieces_agree_with_whole("demo-arm-pmu-fixes-v1-v4.mbox", 5, &[3, 11]);
}

#[test]
fn every_patchwork_fixture_in_shuffled_pieces_equals_one_ingest() {
    let dir = data("patchwork-series-fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the fixtures folder is readable")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".mbox"))
        .collect();
    names.sort();
    assert!(names.len() > 20, "fixtures missing: {names:?}");
    for name in names {
        let rel = format!("patchwork-series-fixtures/{name}");
        // Pieces of one and two: every split point a series can have.
        pieces_agree_with_whole(&rel, 2, &[5]);
        pieces_agree_with_whole(&rel, 1, &[13]);
    }
}

#[test]
fn series_crate_postings_in_shuffled_pieces_equal_one_ingest() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../patchgate-series/tests/data");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the postings folder is readable")
        .filter_map(|e| e.ok())
        .map(|e| e.path().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".mbox"))
        // Mail that forms no series at all has nothing to compare.
        .filter(|n| !n.ends_with("/not-postings.mbox"))
        .collect();
    names.sort();
    assert!(names.len() > 1, "no postings in {}", dir.display());
    for name in names {
        pieces_agree_with_whole(&name, 2, &[5]);
        pieces_agree_with_whole(&name, 1, &[13]);
    }
}
