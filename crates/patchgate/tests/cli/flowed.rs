//! A patch posted as `format=flowed` text (as Thunderbird and others send
//! it): `series mbox` piped to real `git am` must give the commit that
//! `git am` of the posted mail gives.

use crate::util::{git, git_with_stdin, Dir};
use std::path::{Path, PathBuf};

/// lib.c before the fixtures' patch.
const BASE: &str = "#include <limits.h>\n\nint add(int a, int b)\n{\n    return a + b;\n}\n";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../patchgate-mail/tests/data")
        .join(name)
}

/// A repository at the base commit, under `dir`.
fn base_repo(dir: &Dir, name: &str) -> PathBuf {
    let repo = dir.path().join(name);
    std::fs::create_dir_all(&repo).expect("repo folder");
    git(&repo, &["init", "-q", "-b", "master"]);
    std::fs::write(repo.join("lib.c"), BASE).expect("lib.c");
    git(&repo, &["add", "lib.c"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    repo
}

/// `git am` of `mail` on a fresh base: the commit's message and its
/// `git patch-id --stable`.
fn am(dir: &Dir, name: &str, mail: &[u8], args: &[&str]) -> (String, String) {
    let repo = base_repo(dir, name);
    let mut full = vec!["am", "-q"];
    full.extend_from_slice(args);
    git_with_stdin(&repo, &full, Some(mail));
    let message = git(&repo, &["log", "-1", "--format=%B"]);
    let show = git(&repo, &["show", "HEAD"]);
    let id = git_with_stdin(&repo, &["patch-id", "--stable"], Some(show.as_bytes()));
    let id = id.split(' ').next().unwrap_or_default().to_string();
    (message, id)
}

#[test]
fn a_flowed_patch_applies_from_series_mbox_as_git_am_applies_the_posted_mail() {
    for (name, id) in [
        ("flowed-patch.eml", "flowed@example.org"),
        ("flowed-delsp-patch.eml", "flowed-delsp@example.org"),
    ] {
        let dir = Dir::new();
        let posted = std::fs::read(fixture(name)).expect("the fixture");
        let want = am(&dir, "posted", &posted, &[]);
        assert!(
            want.0
                .contains("\nFrom here on, add() never overflows:\n    add(INT_MAX"),
            "{name}: git itself reads the fixture otherwise:\n{}",
            want.0
        );
        dir.ingest(&[&fixture(name)]);
        let mbox = dir.ok(&["series", "mbox", id]).stdout_bytes;
        let got = am(&dir, "patchgate", &mbox, &[]);
        assert_eq!(got, want, "{name}");
    }
}
