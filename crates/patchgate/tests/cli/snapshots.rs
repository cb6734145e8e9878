//! The text people read, pinned: `patchgate test` and `patchgate series
//! show` as printed, compared with the files under `tests/cli/snapshots/`.
//! A change of wording shows as a diff here; after reading it, run the
//! tests with `UPDATE_SNAPSHOTS=1` to take the new text.

use crate::repo::{commit, format_patch, git, publish, repo};
use crate::util::Env;
use std::path::PathBuf;

const T0: i64 = 1_600_000_000;
const DAY: i64 = 86_400;

fn snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_SNAPSHOTS=1 to write it:\n{actual}",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs (UPDATE_SNAPSHOTS=1 takes the new text)\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// A tree with a build that a series breaks and a unit suite with a test
/// the series makes fail, and a rule set with a review; the series is
/// tested and its human report returned.
fn failing_series_report() -> String {
    let env = Env::new("");
    let build = "for i in 1 2 3; do echo \"cc unit$i.o\"; done\n\
                 if grep -q broken src.c; then echo 'src.c:1: error: expected ;'; exit 2; fi\n";
    let unit = "printf '1..2\\nok 1 - add\\n'\n\
                if grep -q broken src.c; then echo 'not ok 2 - sub'; else echo 'ok 2 - sub'; fi\n";
    let work = repo(env.path(), "build.sh", build, T0);
    commit(&work, "unit.sh", unit, "unit", T0);
    commit(&work, "src.c", "int x;\n", "src", T0);
    git(&work, T0, &["checkout", "-q", "-b", "topic"]);
    commit(&work, "src.c", "int x; broken\n", "src: break it", T0 + DAY);
    let mbox = format_patch(&work, "master..topic", T0 + DAY);
    git(&work, T0, &["checkout", "-q", "master"]);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        "[tree.t]\nrepo = \"up.git\"\n\
         [tree.t.suite.build]\nrun = \"sh build.sh\"\n\
         [tree.t.suite.unit]\nrun = \"sh unit.sh\"\nformat = \"tap\"\n\
         [tree.t.branch.queue]\nrequires = [\"build\", \"unit\", \"reviews >= 1\", \"signed-off\"]\n",
    )
    .expect("config");
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    let out = env.run(&["test", "1"]);
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn test_output_of_a_failing_series() {
    snapshot("test-failing.txt", &failing_series_report());
}

#[test]
fn series_show_of_the_pmu_v4_series() {
    let env = Env::new("");
    env.ok(&["ingest", "/work/shared/data/demo-arm-pmu-fixes-v1-v4.mbox"]);
    let show = env.ok(&[
        "series",
        "show",
        "20220811185210.234711-1-ricarkol@google.com",
    ]);
    snapshot("show-pmu-v4.txt", &show);
}
