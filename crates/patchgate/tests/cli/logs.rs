//! What a suite printed is what a submitter needs when it fails: `test`
//! shows the end of a failing suite's output, `log` all of it.

use crate::repo::{commit, format_patch, git, publish, repo};
use crate::util::Env;

const T0: i64 = 1_600_000_000;

#[test]
fn a_failing_build_shows_its_output_and_log_prints_all_of_it() {
    let env = Env::new("");
    let script = "for i in $(seq 1 30); do echo \"compiling unit $i\"; done\n\
                  if grep -q broken src.c; then echo 'src.c:3: error: expected ; before }'; exit 2; fi\n";
    let work = repo(env.path(), "build.sh", script, T0);
    commit(&work, "src.c", "int x;\n", "src: add", T0);
    git(&work, T0, &["checkout", "-q", "-b", "topic"]);
    commit(&work, "src.c", "int x; broken\n", "src: break it", T0 + 60);
    let mbox = format_patch(&work, "master..topic", T0 + 60);
    git(&work, T0, &["checkout", "-q", "master"]);
    publish(&work, &env.path().join("up.git"));
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        "[tree.t]\nrepo = \"up.git\"\n[tree.t.suite.build]\nrun = \"sh build.sh\"\n",
    )
    .expect("config");
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    let out = env.run(&["test", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "build output (last 20 of 31 lines; all of it: patchgate log 1 --suite build)"
        ),
        "{text}"
    );
    assert!(
        text.contains("  | src.c:3: error: expected ; before }"),
        "{text}"
    );
    assert!(
        !text.contains("compiling unit 5\n"),
        "only the tail: {text}"
    );

    let log = env.ok(&["log", "1", "--suite", "build"]);
    assert!(log.starts_with("== build on the series "), "{log}");
    assert!(
        log.contains("compiling unit 1\n") && log.contains("error: expected"),
        "{log}"
    );
    let base = env.ok(&["log", "1", "--base"]);
    assert!(base.contains("== build on the base "), "{base}");
    assert!(!base.contains("error: expected"), "{base}");
    let unknown = env.run(&["log", "1", "--suite", "biuld"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("its suites: build"));
}
