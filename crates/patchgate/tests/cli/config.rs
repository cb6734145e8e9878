//! `patchgate init` and reading `patchgate.toml`: what a new user meets first.
//! A broken configuration exits 2 and says which file and which key or line.

use crate::mails;
use crate::util::{num, patchgate, Dir};

#[test]
fn init_writes_a_config_that_ingest_accepts_and_refuses_to_overwrite_it() {
    let dir = Dir::new();
    let site = dir.path().join("site");
    let site_arg = site.to_str().expect("utf-8 path");
    let out = patchgate(dir.path(), &["init", site_arg], None).code(0);
    let config = site.join("patchgate.toml");
    assert!(
        out.stdout.contains(&config.display().to_string()),
        "{}",
        out.stdout
    );
    assert!(
        site.join(".patchgate").is_dir(),
        "init makes the state directory"
    );
    let written = std::fs::read(&config).expect("init wrote patchgate.toml");

    let mbox = dir.write("greet.mbox", mails::Envelope::ALL[0].mbox(&mails::greet()));
    let config_arg = config.to_str().expect("utf-8 path");
    let mbox_arg = mbox.to_str().expect("utf-8 path");
    let summary = patchgate(
        dir.path(),
        &["--config", config_arg, "ingest", "--json", mbox_arg],
        None,
    )
    .code(0)
    .json();
    assert_eq!(num(&summary, "new"), 3, "{summary:#}");
    assert!(
        site.join(".patchgate/patchgate.sqlite").is_file(),
        "the store sits in the state directory beside the config"
    );

    let again = patchgate(dir.path(), &["init", site_arg], None).code(2);
    assert!(
        again.stderr.contains(&config.display().to_string()) && again.stderr.contains("exists"),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read(&config).expect("config still there"),
        written,
        "init overwrote an existing config"
    );
}

#[test]
fn an_empty_config_is_valid() {
    let dir = Dir::new();
    assert_eq!(std::fs::read(dir.config()).expect("config"), b"");
    assert_eq!(dir.series(), Vec::<serde_json::Value>::new());
    let mbox = dir.write("greet.mbox", mails::Envelope::ALL[0].mbox(&mails::greet()));
    let summary = dir.ingest(&[&mbox]);
    assert_eq!(num(&summary, "series_total"), 1, "{summary:#}");
}

/// Run `series list` with `config` and require exit 2 with each of `want`
/// (and the file's name) in the error.
fn refused(config: &str, want: &[&str]) {
    let dir = Dir::with_config(config);
    let out = dir.run(&["series", "list"]).code(2);
    let err = &out.stderr;
    assert!(
        err.contains(&dir.config().display().to_string()),
        "the file is not named:\n{err}"
    );
    for w in want {
        assert!(err.contains(w), "`{w}` missing from:\n{err}");
    }
    assert!(
        !dir.path().join(".patchgate").exists(),
        "a refused config still made a state directory"
    );
}

#[test]
fn a_tree_without_repo_exits_2_naming_the_file_and_the_missing_key() {
    refused("[tree.a]\nbases = [\"master\"]\n", &["repo", "line 1"]);
}

#[test]
fn a_misspelt_key_exits_2_naming_the_file_the_key_and_its_line() {
    refused(
        "[tree.a]\nrepo = \"a.git\"\nbase = [\"master\"]\n",
        &["base", "line 3", "bases"],
    );
    refused("databse = \"sqlite\"\n", &["databse", "line 1", "database"]);
}

#[test]
fn a_missing_config_exits_2_naming_it_and_how_to_make_one() {
    let dir = Dir::new();
    let missing = dir.path().join("elsewhere.toml");
    let out = patchgate(
        dir.path(),
        &[
            "--config",
            missing.to_str().expect("utf-8 path"),
            "series",
            "list",
        ],
        None,
    )
    .code(2);
    let err = out.stderr.trim_end();
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("patchgate init"), "{err}");
    assert_eq!(
        err.matches("No such file or directory").count(),
        1,
        "the reason is repeated:\n{err}"
    );
}

#[test]
fn a_requires_naming_no_suite_exits_2_at_load_with_its_line() {
    refused(
        "[tree.a]\nrepo = \"a.git\"\n[tree.a.suite.build]\nrun = \"make\"\n\
         [tree.a.branch.queue]\nrequires = [\"biuld\"]\n",
        &["patchgate.toml:6:", "requires[0]", "biuld", "build"],
    );
    refused(
        "[tree.a]\nrepo = \"a.git\"\n[tree.a.suite.build]\nrun = \"\"\n",
        &["patchgate.toml:4:", "run", "empty"],
    );
}

#[test]
fn absurd_job_counts_exit_2_before_anything_starts() {
    let dir = Dir::new();
    for args in [
        &["run", "--jobs", "100000"][..],
        &["run", "--jobs", "5000"],
        &["worker", "--jobs", "0"],
    ] {
        let out = dir.run(args).code(2);
        assert!(out.stderr.contains("--jobs"), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn policy_check_and_show_speak_of_each_branch() {
    let dir = Dir::with_config(
        "[tree.calc]\nrepo = \"calc.git\"\n[tree.calc.suite.build]\nrun = \"make\"\n\
         [tree.calc.branch.queue]\nfrom = \"master\"\nrequires = [\"build\", \"reviews >= 1\"]\n",
    );
    let check = dir.ok(&["policy", "check"]);
    assert!(
        check.stdout.contains("tree calc: 1 branch (queue)"),
        "{}",
        check.stdout
    );
    let show = dir.ok(&["policy", "show", "--tree", "calc"]);
    assert!(
        show.stdout.starts_with("# Rules of the `calc` tree"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains("the `build` suite runs to its end"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains("patchgate test SERIES --branch queue"),
        "{}",
        show.stdout
    );
    let out = dir.run(&["policy", "show", "--tree", "nope"]).code(2);
    assert!(
        out.stderr.contains("the configured trees: calc"),
        "{}",
        out.stderr
    );
}
