//! Suite output to per-test results (exit code, TAP/KTAP, kvm-unit-tests, JUnit): pure.
