//! End-to-end tests of the `patchgate` binary: one test binary, a tiny
//! harness (`util`), hand-written mails (`mails`), and a rebuilder of the
//! files a series' diffs apply to (`rebuild`), so `git am` can be run on real
//! list mail without the project's tree.
//!
//! Each test spawns the built binary against its own temporary folder and
//! names the behaviour it pins.

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

mod archives;
mod arrival;
mod config;
mod flowed;
mod hostile;
mod incremental;
mod mails;
mod parallel;
mod printing;
mod rebuild;
mod roundtrip;
mod sources;
mod util;
