//! Baseline classes, flakes and branch rules to a verdict with reasons: pure.
