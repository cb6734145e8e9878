//! Benchmark: reading a public-inbox v2 archive from the start, and again
//! with the cursor (nothing new). The archive — 2 epochs of 25,000 messages
//! of about 3 KiB — is built with `git fast-import` in a temporary directory.
//!
//!     cargo run --release -p patchgate-git --example inbox

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use patchgate_git::{InboxCursor, PublicInbox};

const EPOCHS: usize = 2;
const PER_EPOCH: usize = 25_000;

type Error = Box<dyn std::error::Error>;

fn build_epoch(repo: &Path, epoch: usize) -> Result<(), Error> {
    let status = Command::new("git")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["init", "--quiet", "--bare", "--initial-branch=master"])
        .arg(repo)
        .status()?;
    if !status.success() {
        return Err("git init failed".into());
    }
    let mut child = Command::new("git")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .arg("--git-dir")
        .arg(repo)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()?;
    let mut input = std::io::BufWriter::new(child.stdin.take().ok_or("no stdin")?);
    let filler = "The quick brown fox jumps over the lazy dog, again and again.\n".repeat(45);
    for n in 0..PER_EPOCH {
        let id = epoch * PER_EPOCH + n;
        let message = format!(
            "From: Sender {id} <s{id}@example.org>\nSubject: [PATCH] message {id}\n\
             Message-ID: <msg-{id}@example.org>\n\n{filler}"
        );
        write!(input, "blob\nmark :1\ndata {}\n{message}\n", message.len())?;
        write!(
            input,
            "commit refs/heads/master\ncommitter pi <pi@example.org> {} +0000\ndata 0\nM 100644 :1 m\n\n",
            1_700_000_000 + id
        )?;
    }
    input.flush()?;
    drop(input);
    if !child.wait()?.success() {
        return Err("git fast-import failed".into());
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    let tmp = tempfile::tempdir()?;
    for epoch in 0..EPOCHS {
        build_epoch(&tmp.path().join(format!("git/{epoch}.git")), epoch)?;
    }
    let inbox = PublicInbox::open(tmp.path())?;

    let start = Instant::now();
    let mut messages = inbox.messages_since(&InboxCursor::default());
    let (mut count, mut bytes) = (0usize, 0usize);
    for message in messages.by_ref() {
        bytes += message?.raw.len();
        count += 1;
    }
    let full = start.elapsed().as_secs_f64();
    let cursor = messages.cursor().clone();

    let start = Instant::now();
    let again = inbox.messages_since(&cursor).count();
    let incremental = start.elapsed().as_secs_f64();

    println!(
        "{count} messages, {:.1} MiB, {EPOCHS} epochs",
        bytes as f64 / (1 << 20) as f64
    );
    println!(
        "full read:        {:.0} ms, {:.0} messages/s",
        full * 1000.0,
        count as f64 / full
    );
    println!(
        "read with cursor: {:.0} ms, {again} new messages",
        incremental * 1000.0
    );
    Ok(())
}
