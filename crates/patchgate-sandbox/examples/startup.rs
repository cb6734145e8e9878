//! Start-up overhead of the sandbox: runs `true` many times confined (bwrap
//! and cgroups), through the sandbox without bwrap (cgroups only), as a bare
//! `sh -c true` and under a minimal bwrap, and prints mean, median and 95th
//! percentile in ms. Figures vary with the host's load: namespace set-up and
//! teardown wait on the kernel's RCU grace periods.
//!
//!     cargo run --release -p patchgate-sandbox --example startup [RUNS]

#![allow(clippy::disallowed_methods)] // starts bubblewrap and the suites by design

use std::process::Command;
use std::time::{Duration, Instant};

use patchgate_sandbox::{Config, Sandbox, Spec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(200);
    let dir = std::env::temp_dir().join(format!("pg-sandbox-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let spec = Spec::new("true", &dir);

    let confined = Sandbox::new(Config::default())?;
    println!("{}\n", confined.capabilities().summary());
    let no_bwrap = Sandbox::new(Config {
        bwrap: Some("/nonexistent/bwrap".into()),
        allow_unconfined: true,
        ..Config::default()
    })?;

    let mut rows = Vec::new();
    rows.push((
        "bare sh -c true",
        measure(runs, || {
            Command::new("/bin/sh")
                .args(["-c", "true"])
                .status()
                .map(|_| ())
                .map_err(Into::into)
        })?,
    ));
    // bwrap's own floor: the same namespaces, the fewest mounts.
    rows.push((
        "bare bwrap, minimal",
        measure(runs, || {
            Command::new("bwrap")
                .args(["--unshare-all", "--die-with-parent", "--ro-bind", "/", "/"])
                .args(["--proc", "/proc", "--dev", "/dev", "/bin/true"])
                .status()
                .map(|_| ())
                .map_err(Into::into)
        })?,
    ));
    rows.push((
        "sandbox, cgroups only",
        measure(runs, || no_bwrap.run(&spec).map(|_| ()).map_err(Into::into))?,
    ));
    rows.push((
        "sandbox, bwrap + cgroups",
        measure(runs, || confined.run(&spec).map(|_| ()).map_err(Into::into))?,
    ));

    println!("{runs} runs of `true` each");
    println!(
        "{:<26} {:>9} {:>9} {:>9}",
        "", "mean ms", "median ms", "p95 ms"
    );
    for (name, mut times) in rows {
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mean = times.iter().map(|&d| ms(d)).sum::<f64>() / times.len() as f64;
        let median = ms(times[times.len() / 2]);
        let p95 = ms(times[times.len() * 95 / 100]);
        println!("{name:<26} {mean:>9.2} {median:>9.2} {p95:>9.2}");
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

type Result_ = Result<(), Box<dyn std::error::Error>>;

/// Times `runs` calls of `f` (at least one).
fn measure(
    runs: usize,
    mut f: impl FnMut() -> Result_,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(runs.max(1));
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed());
    }
    Ok(times)
}
