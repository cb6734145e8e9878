//! render_am against real git: the rendered mail has the same
//! `git patch-id --stable` as the posted one, so the diff is byte-identical
//! where it matters, and it carries the collected trailers.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use patchgate_mail::{mbox, parse, render_am, Kind, Trailer};

/// The patch id git computes for `input`, or `None` when git is missing.
fn patch_id(input: &[u8]) -> Option<String> {
    let mut child = Command::new("git")
        .args(["patch-id", "--stable"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input).ok()?;
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().next().map(str::to_string)
}

#[test]
fn rendered_patches_keep_git_patch_id_of_posted_mail() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/demo-arm-pmu-fixes-v1-v4.mbox");
    let Ok(data) = std::fs::read(&path) else {
        println!("skipped: {} not found", path.display());
        return;
    };
    if patch_id(b"").is_none() && Command::new("git").arg("--version").output().is_err() {
        println!("skipped: git not found");
        return;
    }
    let review = Trailer {
        name: "reviewed-by".to_string(),
        value: "Rita Reviewer <rita@example.org>".to_string(),
    };
    let mut checked = 0;
    for raw in mbox::split(&data) {
        let message = parse(&raw);
        if message.kind != Kind::Patch {
            continue;
        }
        let rendered = render_am(&message, std::slice::from_ref(&review));
        let original = patch_id(&raw);
        assert!(
            original.is_some(),
            "{}: git found no patch in the posted mail",
            message.id
        );
        assert_eq!(patch_id(&rendered), original, "{}", message.id);

        let text = String::from_utf8_lossy(&rendered);
        assert!(text.starts_with(&format!("From {} Mon Sep 17 00:00:00 2001\n", message.id)));
        assert!(
            text.contains("\nReviewed-by: Rita Reviewer <rita@example.org>\n---\n"),
            "{text}"
        );
        let again = parse(&rendered);
        assert_eq!(again.diff, message.diff, "{}", message.id);
        assert_eq!(again.id, message.id);
        assert_eq!(again.from, message.from);
        assert_eq!(again.date, message.date);
        assert_eq!(again.prefix.title, message.prefix.title);
        assert_eq!(
            again.trailers.last(),
            Some(&Trailer {
                name: "Reviewed-by".to_string(),
                ..review.clone()
            })
        );
        checked += 1;
    }
    assert!(checked >= 13, "only {checked} patches checked");
}
