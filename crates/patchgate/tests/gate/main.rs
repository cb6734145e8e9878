//! End-to-end tests of the test stage: the `patchgate` binary applying
//! series with real git, running suites in the real sandbox and judging
//! them against the base.

#![allow(clippy::disallowed_methods)] // starts git and other real processes by design

mod util;

mod demo;
mod flaky;
mod forgery;
mod hostile;
mod kvm_unit_tests;
mod landed;
mod logs;
mod lost;
mod replay;
mod snapshots;
mod stacked;
mod worker;
