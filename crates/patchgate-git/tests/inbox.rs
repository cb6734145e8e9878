//! Reading public-inbox v2 archives built by `fixtures/public-inbox.sh`:
//! epochs in order, oldest message first, deletions passed over, and a
//! cursor that makes the second read return only what is new.

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

use std::path::Path;
use std::process::Command;

use patchgate_git::{GitError, InboxCursor, PublicInbox};

fn fixture(args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/public-inbox.sh");
    let output = Command::new("sh")
        .arg(script)
        .args(args)
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Reads everything after `cursor`; returns message numbers and the new cursor.
fn read(inbox: &PublicInbox, cursor: &InboxCursor) -> (Vec<(u32, String)>, InboxCursor) {
    let mut messages = inbox.messages_since(cursor);
    let mut seen = Vec::new();
    for message in messages.by_ref() {
        let message = message.expect("readable archive");
        let text = String::from_utf8(message.raw).expect("ascii fixture");
        let id = text
            .lines()
            .find_map(|line| line.strip_prefix("Message-ID: <msg-"))
            .and_then(|rest| rest.strip_suffix("@example.org>"))
            .expect("fixture message id")
            .to_owned();
        assert!(
            text.ends_with(&format!("body of message {id}\n")),
            "verbatim bytes"
        );
        seen.push((message.epoch, id));
    }
    (seen, messages.cursor().clone())
}

fn numbers(seen: &[(u32, String)]) -> Vec<String> {
    seen.iter().map(|(_, id)| id.clone()).collect()
}

#[test]
fn reads_epochs_in_order_then_only_new_messages() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_str().expect("utf-8");
    fixture(&["add", dir, "0", "1", "5"]);
    fixture(&["add", dir, "1", "6", "8"]);
    fixture(&["delete", dir, "1", "7"]);
    // Epoch 10 sorts after 1 by number, not by name ("10" < "2" as text).
    fixture(&["add", dir, "10", "20", "21"]);
    fixture(&["add", dir, "2", "9", "9"]);

    let inbox = PublicInbox::open(tmp.path()).expect("archive");
    assert_eq!(inbox.epochs(), vec![0, 1, 2, 10]);
    let (seen, cursor) = read(&inbox, &InboxCursor::default());
    assert_eq!(
        numbers(&seen),
        ["1", "2", "3", "4", "5", "6", "7", "8", "9", "20", "21"]
    );
    assert_eq!(seen[5].0, 1);
    assert_eq!(cursor.epochs.len(), 4);

    let (again, same) = read(&inbox, &cursor);
    assert!(again.is_empty());
    assert_eq!(same, cursor);

    fixture(&["add", dir, "10", "22", "23"]);
    fixture(&["add", dir, "11", "24", "24"]);
    let inbox = PublicInbox::open(tmp.path()).expect("archive");
    let (new, cursor) = read(&inbox, &cursor);
    assert_eq!(numbers(&new), ["22", "23", "24"]);
    assert_eq!(cursor.epochs.len(), 5);
}

#[test]
fn cursor_is_advanced_past_trailing_deletions() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_str().expect("utf-8");
    fixture(&["add", dir, "0", "1", "2"]);
    fixture(&["delete", dir, "0", "2"]);
    let inbox = PublicInbox::open(tmp.path()).expect("archive");
    let (seen, cursor) = read(&inbox, &InboxCursor::default());
    assert_eq!(numbers(&seen), ["1", "2"]);
    let head = common_head(&tmp.path().join("git/0.git"));
    assert_eq!(cursor.epochs.get(&0).map(|oid| oid.to_string()), Some(head));
}

#[test]
fn stopping_early_leaves_no_process_and_resumes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_str().expect("utf-8");
    fixture(&["add", dir, "0", "1", "50"]);
    let inbox = PublicInbox::open(tmp.path()).expect("archive");
    let mut messages = inbox.messages_since(&InboxCursor::default());
    let first: Vec<_> = messages
        .by_ref()
        .take(10)
        .collect::<Result<_, _>>()
        .expect("read");
    assert_eq!(first.len(), 10);
    let cursor = messages.cursor().clone();
    drop(messages);
    let (rest, _) = read(&inbox, &cursor);
    assert_eq!(rest.first().map(|(_, id)| id.as_str()), Some("11"));
    assert_eq!(rest.len(), 40);
}

#[test]
fn a_directory_without_epochs_is_named_in_the_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let error = PublicInbox::open(tmp.path()).expect_err("not an archive");
    assert!(matches!(error, GitError::NotAnInbox { .. }));
    assert!(error
        .to_string()
        .contains(&tmp.path().display().to_string()));
}

fn common_head(repo: &Path) -> String {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(["rev-parse", "HEAD"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
