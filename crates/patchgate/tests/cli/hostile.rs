//! Sources that try to stop ingest: entries of a Maildir that are no
//! message file (a FIFO that would block for ever, a link to `/dev/zero`
//! that never ends, links that lead nowhere, a folder) and a message too
//! large to read. Each is reported as unusable, naming its path and the
//! fix, and the good mail beside it is still stored.

use crate::mails::{self, Envelope, GREET_1};
use crate::util::{num, text, Dir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A Maildir holding the greet series in new/, plus whatever `bad` adds to
/// cur/ (it gets the path of the entry to make).
fn maildir_with(bad: impl FnOnce(&Path)) -> (Dir, PathBuf) {
    let dir = Dir::new();
    for (i, m) in mails::greet().iter().enumerate() {
        dir.write(&format!("inbox/new/166000000{i}.{i}.host"), m);
    }
    std::fs::create_dir_all(dir.path().join("inbox/cur")).expect("cur/");
    let entry = dir.path().join("inbox/cur/1660000009.9.host:2,S");
    bad(&entry);
    (dir, entry)
}

/// Ingest the Maildir (killed if it hangs): exit 0, the greet series in the
/// store, and the one unusable entry, returned.
fn ingest_skips_one(dir: &Dir) -> Value {
    let inbox = dir.path().join("inbox");
    let out = dir
        .run_within(
            60,
            &["ingest", "--json", inbox.to_str().expect("utf-8 path")],
        )
        .code(0);
    let summary = out.json();
    assert_eq!(num(&summary, "new"), 3, "{summary:#}");
    let unusable = summary["unusable"].as_array().expect("unusable is a list");
    assert_eq!(unusable.len(), 1, "{summary:#}");
    let list = dir.series();
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(list[0]["complete"], true, "{list:#?}");
    unusable[0].clone()
}

fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("a symbolic link can be made");
}

/// The entry is reported by its path, with what it is and the fix.
fn names(entry: &Value, path: &Path, what: &str) {
    assert_eq!(
        text(entry, "source"),
        path.display().to_string(),
        "{entry:#}"
    );
    assert!(entry["message_id"].is_null(), "{entry:#}");
    let reason = text(entry, "reason");
    assert!(reason.contains(what), "`{what}` not in: {reason}");
}

#[test]
fn a_fifo_in_a_maildir_is_skipped_not_waited_for() {
    let (dir, fifo) = maildir_with(|p| {
        let made = Command::new("mkfifo").arg(p).status().expect("mkfifo runs");
        assert!(made.success());
    });
    let entry = ingest_skips_one(&dir);
    names(&entry, &fifo, "a named pipe (FIFO), not a message file");
    assert!(text(&entry, "reason").contains("move it out of the Maildir"));
}

#[test]
fn a_link_to_dev_zero_is_skipped_not_read_for_ever() {
    let (dir, link) = maildir_with(|p| symlink("/dev/zero", p));
    names(&ingest_skips_one(&dir), &link, "a character device");
}

#[test]
fn a_dangling_link_is_reported_and_the_rest_stored() {
    let (dir, link) = maildir_with(|p| symlink("/nonexistent/mail", p));
    let entry = ingest_skips_one(&dir);
    names(&entry, &link, "a symbolic link that leads to no file");
    assert!(text(&entry, "reason").contains("No such file"), "{entry:#}");
}

#[test]
fn a_symlink_loop_is_reported_and_the_rest_stored() {
    let (dir, link) = maildir_with(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).expect("utf-8 name");
        symlink(name, p);
    });
    let entry = ingest_skips_one(&dir);
    names(&entry, &link, "a symbolic link that leads to no file");
    assert!(
        text(&entry, "reason").contains("symbolic links"),
        "{entry:#}"
    );
}

#[test]
fn a_subfolder_in_cur_is_reported_and_the_rest_stored() {
    let (dir, sub) = maildir_with(|p| std::fs::create_dir(p).expect("subfolder"));
    names(
        &ingest_skips_one(&dir),
        &sub,
        "a folder, not a message file",
    );
}

/// A mail of `size` bytes or more: the greet patch 1 with a long body.
fn huge_mail(size: usize) -> Vec<u8> {
    let mut mail = mails::greet()[1]
        .replacen("Subject: ", "Subject: [huge] ", 1)
        .into_bytes();
    let line = [b"x".repeat(75), b"\n".to_vec()].concat();
    while mail.len() < size {
        mail.extend_from_slice(&line);
    }
    mail
}

#[test]
fn a_message_over_64_mib_is_kept_as_unusable_with_the_reason() {
    let limit = 64 << 20;
    let dir = Dir::new();
    let mail = huge_mail(limit + 1);
    dir.write("inbox/cur/1660000001.1.host:2,S", &mail);
    let inbox = dir.path().join("inbox");
    let summary = dir.ingest(&[&inbox]);
    assert_eq!(num(&summary, "new"), 1, "{summary:#}");
    let entry = &summary["unusable"][0];
    assert_eq!(text(entry, "message_id"), GREET_1, "{summary:#}");
    let reason = text(entry, "reason");
    assert!(
        reason.contains(&format!(
            "{} bytes, over the limit of {limit} bytes (64 MiB)",
            mail.len()
        )),
        "{reason}"
    );
    assert!(dir.series().is_empty(), "an unread mail makes no series");
    // Kept: a second ingest finds it stored.
    let again = dir.ingest(&[&inbox]);
    assert_eq!(num(&again, "duplicates"), 1, "{again:#}");

    // The same mail in an mbox, between two good ones, is cut the same way
    // and does not take its neighbours with it.
    let other = Dir::new();
    let greet = mails::greet();
    let huge = String::from_utf8(mail.clone()).expect("ASCII mail");
    let mbox = Envelope::ALL[0].mbox(&[greet[0].clone(), huge, greet[2].clone()]);
    let file = other.write("list.mbox", &mbox);
    let summary = other.ingest(&[&file]);
    assert_eq!(num(&summary, "new"), 3, "{summary:#}");
    let unusable = summary["unusable"].as_array().expect("a list");
    assert_eq!(unusable.len(), 1, "{summary:#}");
    assert_eq!(text(&unusable[0], "message_id"), GREET_1);
    assert!(text(&unusable[0], "reason").contains("over the limit"));
}

#[test]
fn a_device_given_as_a_source_exits_2_naming_it_not_read_for_ever() {
    let dir = Dir::new();
    let out = dir.run_within(60, &["ingest", "/dev/zero"]).code(2);
    assert!(out.stderr.contains("/dev/zero"), "{}", out.stderr);
    assert!(out.stderr.contains("a character device"), "{}", out.stderr);
}

#[test]
fn a_message_over_64_mib_in_a_public_inbox_is_kept_as_unusable_by_its_head() {
    let dir = Dir::new();
    let greet = mails::greet();
    let huge = String::from_utf8(huge_mail((64 << 20) + 1)).expect("ASCII mail");
    let inbox = dir.path().join("lore");
    crate::sources::inbox_append(
        &inbox.join("git/0.git"),
        &[Some(&greet[0]), Some(&huge), Some(&greet[2])],
    );
    let summary = dir.ingest(&[&inbox]);
    assert_eq!(num(&summary, "new"), 3, "{summary:#}");
    let unusable = summary["unusable"].as_array().expect("a list");
    assert_eq!(unusable.len(), 1, "{summary:#}");
    assert_eq!(text(&unusable[0], "message_id"), GREET_1);
    assert!(text(&unusable[0], "reason").contains("over the limit"));
}
