//! End-to-end tests of the `patchgate` binary: one test binary, one tiny
//! harness (`util`), git repositories with fixed dates for the test stage
//! (`repo`), hand-written mails (`mails`), and a rebuilder of the files a
//! series' diffs apply to (`rebuild`), so `git am` can be run on real list
//! mail without the project's tree. The test-stage tests apply series with
//! real git, run suites in the real sandbox and judge them against the base.
//!
//! Each test spawns the built binary against its own temporary folder and
//! names the behaviour it pins.

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

mod archives;
mod arrival;
mod config;
mod demo;
mod flaky;
mod flowed;
mod forgery;
mod hostile;
mod incremental;
mod kvm_unit_tests;
mod landed;
mod logs;
mod lost;
mod mails;
mod parallel;
mod printing;
mod rebuild;
mod replay;
mod repo;
mod roundtrip;
mod sandbox_escape;
mod snapshots;
mod sources;
mod stacked;
mod util;
mod worker;
