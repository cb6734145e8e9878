//! How the binary prints: a reader that stops early (`| head`) ends the
//! output, not the program with a panic.

use crate::archives::PMU;
use crate::util::{data, Dir};
use std::process::{Command, Stdio};

#[test]
fn series_list_into_a_closed_pipe_exits_without_a_panic() {
    let dir = Dir::new();
    dir.ingest(&[&data(PMU)]);
    let (reader, writer) = std::io::pipe().expect("a pipe");
    // The reader is gone before the first byte is written, as with
    // `patchgate series list | head -0`.
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_patchgate"))
        .args(["--config", dir.config().to_str().expect("utf-8 path")])
        .args(["series", "list", "--json"])
        .env_remove("PATCHGATE_CONFIG")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("patchgate runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && out.status.code() != Some(101),
        "a closed stdout made patchgate panic ({:?}):\n{stderr}",
        out.status
    );
}

#[test]
fn the_ingest_summary_counts_the_revisions_a_batch_supersedes() {
    // The 2022 kvmarm archive holds six revisions that a newer one in the
    // same file supersedes.
    let dir = Dir::new();
    let file = data(crate::archives::KVMARM);
    let out = dir.ok(&["ingest", file.to_str().expect("utf-8 path")]);
    assert!(
        out.stdout.contains("24 new, 0 updated, 6 superseded"),
        "{}",
        out.stdout
    );
    let superseded = dir
        .series()
        .iter()
        .filter(|s| s["state"] == "superseded")
        .count();
    assert_eq!(superseded, 6);
}

#[test]
fn counts_of_one_are_singular() {
    let dir = Dir::new();
    let one = dir.write("one.mbox", crate::mails::greet()[1].as_bytes());
    let out = dir.ok(&["ingest", one.to_str().expect("utf-8 path")]);
    assert!(
        out.stdout.starts_with("read 1 message in "),
        "{}",
        out.stdout
    );
    let gone = dir.ok(&["series", "mbox", crate::mails::GREET_1]);
    assert!(gone.stderr.contains(": 1 patch, "), "{}", gone.stderr);
}

#[test]
fn no_colour_codes_reach_a_pipe() {
    let dir = Dir::new();
    // -vv logs every step to stderr, which is a pipe here.
    let out = dir.ok(&["-vv", "ingest", data(PMU).to_str().expect("utf-8 path")]);
    assert!(!out.stderr.is_empty(), "nothing was logged to check");
    assert!(
        !out.stderr.contains('\u{1b}') && !out.stdout.contains('\u{1b}'),
        "escape codes in piped output:\n{}",
        out.stderr
    );
}

#[test]
fn run_with_nothing_configured_says_what_to_add_to_patchgate_toml() {
    let dir = Dir::new();
    let out = dir.run(&["run"]).code(2);
    let err = &out.stderr;
    assert!(err.contains("nothing to run"), "{err}");
    assert!(err.contains("patchgate.toml"), "{err}");
    assert!(
        err.contains("[[source]]") && err.contains("path = "),
        "{err}"
    );
    assert!(
        err.contains("[tree.calc]") && err.contains("repo = "),
        "{err}"
    );

    // A source alone is read, with a note on what testing needs.
    let dir = Dir::with_config(&format!("[[source]]\npath = \"{}\"\n", data(PMU).display()));
    let out = dir.ok(&["run"]);
    assert!(out.stdout.contains("read 66 messages"), "{}", out.stdout);
    assert!(out.stderr.contains("no [tree.NAME]"), "{}", out.stderr);
}
