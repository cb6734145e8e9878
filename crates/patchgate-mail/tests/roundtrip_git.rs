//! render_am against real git: the rendered mail has the same
//! `git patch-id --stable` as the posted one, so the diff is byte-identical
//! where it matters, and it carries the collected trailers.

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

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

/// Run git in `dir`, returning stdout, or `None` when git fails to start.
fn git(dir: &std::path::Path, args: &[&str], stdin: Option<&[u8]>) -> Option<(bool, String)> {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "T")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    if let Some(input) = stdin {
        child.stdin.take()?.write_all(input).ok()?;
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().ok()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), text))
}

#[test]
fn git_am_applies_rendered_patch_with_trailers_and_unescaped_from_lines() {
    let dir = std::env::temp_dir().join(format!("patchgate-mail-am-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("lib")).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    if git(&dir, &["init", "-q"], None).is_none() {
        println!("skipped: git not found");
        return;
    }
    std::fs::write(dir.join("lib/util.c"), "int util(void)\n{\n\treturn 0;\n")
        .unwrap_or_else(|e| panic!("writing util.c: {e}"));
    for args in [&["add", "."][..], &["commit", "-q", "-m", "base"][..]] {
        let (ok, out) = git(&dir, args, None).unwrap_or_default();
        assert!(ok, "git {args:?}: {out}");
    }

    let data =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/mboxrd.mbox"))
            .unwrap_or_else(|e| panic!("reading mboxrd.mbox: {e}"));
    let first = mbox::split(&data).next().map(|m| parse(&m));
    let message = first.unwrap_or_else(|| panic!("mboxrd.mbox holds no message"));
    let extra = [
        Trailer {
            name: "Reviewed-by".to_string(),
            value: "Rita Reviewer <rita@example.org>".to_string(),
        },
        Trailer {
            name: "Signed-off-by".to_string(),
            value: "A <a@example.org>".to_string(),
        },
    ];
    let rendered = render_am(&message, &extra);
    // Plain `git am`, as a user runs it on `series mbox`.
    let (ok, out) = git(&dir, &["am", "-q"], Some(&rendered)).unwrap_or_default();
    assert!(ok, "git am: {out}\n{}", String::from_utf8_lossy(&rendered));

    let (_, log) = git(&dir, &["log", "-1", "--format=%an <%ae>%n%B"], None).unwrap_or_default();
    assert_eq!(
        log.trim_end(),
        "A <a@example.org>\nfirst\n\nFrom the start this was wrong.\n>From here it is quoted.\n\nSigned-off-by: A <a@example.org>\nReviewed-by: Rita Reviewer <rita@example.org>"
    );
    let content = std::fs::read_to_string(dir.join("lib/util.c")).unwrap_or_default();
    assert_eq!(content, "int util(void)\n{\n\treturn 1;\n");
    let _ = std::fs::remove_dir_all(&dir);
}
