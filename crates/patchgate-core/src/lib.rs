//! The stages over the store and the ports: ingest, schedule, apply, run, judge.
