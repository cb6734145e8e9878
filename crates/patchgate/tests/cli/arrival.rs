//! Mail arrives out of order, twice, and older revisions after newer ones:
//! series ids stay what they were, and completeness follows the mail.

use crate::archives::{pmu_v4_patch, PMU, PMU_V1, PMU_V2, PMU_V3, PMU_V4};
use crate::util::{data, mails_by_id, mbox_of, num, text, Dir};
use serde_json::{json, Value};

fn only_series(dir: &Dir) -> Value {
    let list = dir.series();
    assert_eq!(list.len(), 1, "one series expected: {list:#?}");
    list[0].clone()
}

#[test]
fn a_series_keeps_its_id_while_patches_and_then_its_cover_arrive_in_reverse() {
    let dir = Dir::new();
    let archive = data(PMU);
    let ids: Vec<String> = [PMU_V4.to_string()]
        .into_iter()
        .chain((1..=4).map(pmu_v4_patch))
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mails = mails_by_id(&archive, &ids);
    let (cover, patches) = (&mails[0], &mails[1..]);

    // Run 1: patches 4 and 3.
    let first = dir.write(
        "first.mbox",
        mbox_of(&[patches[3].clone(), patches[2].clone()]),
    );
    dir.ingest(&[&first]);
    let s = only_series(&dir);
    let id = num(&s, "id");
    assert_eq!(s["complete"], false, "{s:#}");
    assert_eq!(s["missing"], json!([1, 2]), "{s:#}");
    assert_eq!(num(&s, "total"), 4);

    // Run 2: patch 3 again (a re-delivery), then 2, 1, and the cover last.
    let second = dir.write(
        "second.mbox",
        mbox_of(&[
            patches[2].clone(),
            patches[1].clone(),
            patches[0].clone(),
            cover.clone(),
        ]),
    );
    let summary = dir.ingest(&[&second]);
    assert_eq!(
        (num(&summary, "new"), num(&summary, "duplicates")),
        (3, 1),
        "{summary:#}"
    );
    let s = only_series(&dir);
    assert_eq!(
        num(&s, "id"),
        id,
        "the id changed when the rest arrived: {s:#}"
    );
    assert_eq!(s["complete"], true, "{s:#}");
    assert_eq!(s["missing"], json!([]), "{s:#}");
    assert_eq!(text(&s, "message_id"), PMU_V4, "the cover names the series");
    let show = dir.json(&["series", "show", &id.to_string()]);
    assert_eq!(show["cover"]["message_id"], PMU_V4, "{show:#}");

    // Then the whole archive: older revisions and all the replies. v4 keeps
    // its id; the older ones are superseded by it.
    dir.ingest(&[&archive]);
    let v4 = dir.json(&["series", "show", PMU_V4]);
    assert_eq!(num(&v4, "id"), id, "{v4:#}");
    let superseded = dir.json(&["series", "list", "--state", "superseded"]);
    let superseded = superseded.as_array().expect("an array");
    let mut covers: Vec<&str> = superseded.iter().map(|s| text(s, "message_id")).collect();
    covers.sort_unstable();
    assert_eq!(covers, [PMU_V1, PMU_V2, PMU_V3]);
    for s in superseded {
        assert_eq!(text(s, "state"), "superseded");
        assert_eq!(num(s, "superseded_by"), id, "{s:#}");
    }
}

#[test]
fn series_mbox_of_an_incomplete_series_gives_the_received_patches_and_warns_of_the_missing() {
    let dir = Dir::new();
    let ids = [PMU_V4.to_string(), pmu_v4_patch(1), pmu_v4_patch(3)];
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let partial = dir.write("partial.mbox", mbox_of(&mails_by_id(&data(PMU), &ids)));
    dir.ingest(&[&partial]);
    let out = dir.run(&["series", "mbox", PMU_V4]).code(0);
    let subjects: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("Subject: "))
        .collect();
    assert_eq!(subjects.len(), 2, "{}", out.stdout);
    assert!(subjects[0].contains(" 1/4]"), "{subjects:?}");
    assert!(subjects[1].contains(" 3/4]"), "{subjects:?}");
    let err = &out.stderr;
    assert!(err.contains("warning: series"), "{err}");
    assert!(err.contains("incomplete"), "{err}");
    assert!(
        err.contains("patches 2, 4 of 4 not received"),
        "the missing patches are named: {err}"
    );
    assert!(err.contains("only 2 patches (1, 3)"), "{err}");

    // With -o, the file holds the same.
    let file = dir.path().join("out.mbox");
    dir.run(&[
        "series",
        "mbox",
        PMU_V4,
        "-o",
        file.to_str().expect("utf-8 path"),
    ])
    .code(0);
    let written = std::fs::read(&file).expect("the mbox was written");
    assert_eq!(written, out.stdout_bytes);
}

#[test]
fn received_counts_patches_date_is_the_earliest_date_and_missing_is_listed_whole() {
    let dir = Dir::new();
    let mail = crate::mails::mail(
        "lone@example.org",
        None,
        "[PATCH 99999/99999] the last of many",
        "Mon, 1 Aug 2022 10:00:00 +0000",
        "Only this one arrived.\n\nSigned-off-by: Ada Lovelace <ada@example.org>\n---\n\
         diff --git a/x b/x\nnew file mode 100644\n--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+x\n",
    );
    let file = dir.write("lone.mbox", mbox_of(&[mail.into_bytes()]));
    dir.ingest(&[&file]);
    let list = dir.series();
    assert_eq!(list.len(), 1, "{list:#?}");
    let s = &list[0];
    assert_eq!(num(s, "total"), 99_999);
    assert_eq!(
        num(s, "received"),
        1,
        "one patch arrived: {}",
        s["received"]
    );
    assert_eq!(num(s, "date"), 1_659_348_000, "the Date: in Unix seconds");
    let missing = s["missing"].as_array().expect("missing is a list");
    assert_eq!(missing.len(), 99_998, "missing is never cut short");
    assert_eq!(
        (missing[0].clone(), missing[99_997].clone()),
        (json!(1), json!(99_998))
    );
    let show = dir.json(&["series", "show", "lone@example.org"]);
    assert_eq!(num(&show, "received"), 1);
    let human = dir.ok(&["series", "show", "lone@example.org"]).stdout;
    assert!(
        human.contains("patches   1 of 99999; missing 1, 2, 3"),
        "{human}"
    );
    let table = dir.ok(&["series", "list"]).stdout;
    assert!(table.contains("1/99999"), "{table}");
}

#[test]
fn a_count_no_series_has_is_read_as_one_patch_with_the_reason() {
    let dir = Dir::new();
    let mail = crate::mails::mail(
        "huge-count@example.org",
        None,
        "[PATCH 1/4000000000] counted past belief",
        "Mon, 1 Aug 2022 10:00:00 +0000",
        "Body.\n---\ndiff --git a/x b/x\nnew file mode 100644\n--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+x\n",
    );
    let file = dir.write("huge.mbox", mbox_of(&[mail.into_bytes()]));
    let summary = dir.ingest(&[&file]);
    let problems = summary["with_problems"].as_array().expect("a list");
    assert_eq!(problems.len(), 1, "{summary:#}");
    assert!(
        text(&problems[0], "reason").contains("1 of 4000000000"),
        "{summary:#}"
    );
    let list = dir.series();
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!((num(&list[0], "total"), num(&list[0], "received")), (1, 1));
    assert_eq!(list[0]["complete"], true);
}
