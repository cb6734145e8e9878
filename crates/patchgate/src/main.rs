//! The `patchgate` binary: command-line parsing, configuration, printing and exit codes.
fn main() {}
