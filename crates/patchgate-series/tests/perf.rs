//! Prints how long 50,000 synthetic mails take to assemble. Ignored by
//! default (speed is measured, not asserted); run it with
//! `cargo test -p patchgate-series --release --test perf -- --ignored --nocapture`.

mod common;

use std::time::Instant;

use common::*;
use patchgate_series::assemble;

/// 50,000 mails: 5,000 series of a cover, 4 patches and 5 replies, in
/// revisions of 1,250 topics, some unthreaded, shuffled deterministically.
fn synthetic() -> Vec<patchgate_series::Mail> {
    let mut out = Vec::with_capacity(50_000);
    for s in 0..5_000u32 {
        let author = format!("dev{}@example.org", s % 1_250);
        let title = format!("work item {}", s % 1_250);
        let v = s / 1_250 + 1;
        let t = i64::from(s) * 7;
        let c = format!("s{s}-0");
        let threaded = s % 10 != 0;
        let mut cov = cover(&c, 4, &title).v(v).minute(t).by("Dev", &author);
        if !threaded {
            cov = cov.undated().minute(t);
        }
        out.push(cov.0);
        for i in 1..=4 {
            let mut p = patch(&format!("s{s}-{i}"), i, 4, "part")
                .v(v)
                .minute(t)
                .by("Dev", &author);
            if threaded {
                p = p.under(&c);
            }
            out.push(p.0);
        }
        for r in 0..5u32 {
            let target = format!("s{s}-{}", r % 5);
            out.push(
                reply(&format!("s{s}-r{r}"), &target, &[&c, &target])
                    .minute(t + 1)
                    .trailer("Reviewed-by", &format!("R{r} <r{r}@x>"))
                    .0,
            );
        }
    }
    // A fixed permutation, so arrival order is not the generation order.
    let n = out.len();
    for i in 0..n {
        out.swap(i, (i * 7_919 + 13) % n);
    }
    out
}

#[test]
#[ignore = "prints a timing; run in release mode"]
fn fifty_thousand_mails_assemble_time() {
    let mails = synthetic();
    let start = Instant::now();
    let a = assemble(&mails);
    let took = start.elapsed();
    println!(
        "assembled {} mails into {} series and {} topics in {:?}",
        mails.len(),
        a.series.len(),
        a.topics.len(),
        took
    );
    assert_eq!(a.series.len(), 5_000);
}

#[test]
#[ignore = "prints a timing; run in release mode"]
fn fifty_thousand_unthreaded_patches_of_one_huge_series_assemble_time() {
    let mails: Vec<_> = (0..50_000u32)
        .map(|i| patch(&format!("h{i}"), i + 1, 50_000, "part").0)
        .collect();
    let start = Instant::now();
    let a = assemble(&mails);
    println!(
        "assembled {} unthreaded patches into {} series in {:?}",
        mails.len(),
        a.series.len(),
        start.elapsed()
    );
    assert_eq!(a.series.len(), 1);
}
