//! The stages of patchgate over the store and the ports.
//!
//! Each stage reads its input from the [`patchgate_store::Store`] and writes
//! its output there, so a crash loses at most the step in flight. The clock
//! comes in as a plain `now` argument and progress goes out through a trait:
//! this crate never prints and never reads the wall clock itself.

pub mod config;
pub mod ingest;
pub mod render;
pub mod series_mbox;
pub mod testing;
pub mod worker;
