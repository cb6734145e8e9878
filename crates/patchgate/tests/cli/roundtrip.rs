//! The round trip: `series mbox` output applied with real `git am` gives the
//! commits that were posted (same `git patch-id --stable`), with the
//! trailers collected from replies in their messages.
//!
//! The trees the list patches were made against are not available offline,
//! so each test commits a base rebuilt from the diffs themselves
//! (`rebuild.rs`) and applies the series on it, once plainly and once with
//! `git am -3`.

use crate::archives::{pmu_v4_patch, KVMARM, MARC_ACK, PMU, PMU_V4};
use crate::rebuild::rebuild;
use crate::util::{data, git, git_output, git_with_stdin, mails_by_id, num, text, Dir};
use std::path::Path;

/// `git patch-id --stable` of each patch in `input`, in order.
fn patch_ids(dir: &Path, input: &[u8]) -> Vec<String> {
    git_with_stdin(dir, &["patch-id", "--stable"], Some(input))
        .lines()
        .map(|l| l.split(' ').next().unwrap_or_default().to_string())
        .collect()
}

/// The diff of each posted mail, in series order. `git mailinfo` takes it
/// out of the mail (undoing any transfer encoding), so this does not depend
/// on the code under test.
fn posted_diffs(dir: &Path, mails: &[Vec<u8>]) -> Vec<Vec<u8>> {
    mails
        .iter()
        .map(|m| {
            git_with_stdin(dir, &["mailinfo", "msg.txt", "patch.diff"], Some(m));
            std::fs::read(dir.join("patch.diff")).expect("mailinfo wrote the diff")
        })
        .collect()
}

/// The tree after each posted diff, applied by `git apply` on `base`.
fn posted_trees(repo: &Path, base: &str, diffs: &[Vec<u8>]) -> Vec<String> {
    git(repo, &["switch", "-q", "-c", "posted", base]);
    diffs
        .iter()
        .map(|d| {
            git_with_stdin(repo, &["apply", "--index"], Some(d));
            git(
                repo,
                &["commit", "-q", "--allow-empty", "-m", "posted diff"],
            );
            git(repo, &["rev-parse", "HEAD^{tree}"]).trim().to_string()
        })
        .collect()
}

fn trees(repo: &Path, commits: &[String]) -> Vec<String> {
    commits
        .iter()
        .map(|c| {
            git(repo, &["rev-parse", &format!("{c}^{{tree}}")])
                .trim()
                .to_string()
        })
        .collect()
}

/// A repository in `path` whose one commit holds `files`; its commit id.
fn base_repo(path: &Path, files: &std::collections::BTreeMap<String, Vec<u8>>) -> String {
    std::fs::create_dir_all(path).expect("repo folder");
    git(path, &["init", "-q", "-b", "master"]);
    for (name, bytes) in files {
        let file = path.join(name);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).expect("folder of a base file");
        }
        std::fs::write(&file, bytes).expect("base file written");
    }
    git(path, &["add", "-A"]);
    git(
        path,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "base rebuilt from the diffs",
        ],
    );
    git(path, &["rev-parse", "HEAD"]).trim().to_string()
}

/// Apply `mbox` on `base` in a new branch with `git am ARGS`; the new commits, oldest first.
fn am(repo: &Path, base: &str, branch: &str, args: &[&str], mbox: &[u8]) -> Vec<String> {
    git(repo, &["switch", "-q", "-c", branch, base]);
    let mut full = vec!["am", "-q"];
    full.extend_from_slice(args);
    let out = git_output(repo, &full, Some(mbox));
    assert!(
        out.status.success(),
        "git {} did not apply the series:\n{}{}",
        full.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    git(repo, &["rev-list", "--reverse", &format!("{base}..HEAD")])
        .lines()
        .map(str::to_string)
        .collect()
}

/// patch-ids of `commits` as git computes them from the trees (no rename
/// detection, as the posted diffs have none).
fn commit_patch_ids(repo: &Path, commits: &[String]) -> Vec<String> {
    commits
        .iter()
        .map(|c| {
            let diff = git(repo, &["show", "--no-renames", "--format=commit %H", c]);
            let ids = patch_ids(repo, diff.as_bytes());
            assert_eq!(ids.len(), 1, "one patch per commit: {ids:?}");
            ids[0].clone()
        })
        .collect()
}

/// How closely the applied commits must match the posted patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    /// Same trees as the posted diffs applied one by one.
    Trees,
    /// Same trees, and `git patch-id --stable` of each commit equals the
    /// posted mail's. git may align a re-computed diff differently from the
    /// submitter's when a line such as `{` could pair either way, so this
    /// holds for series checked to be free of such ambiguity.
    PatchIds,
}

/// Ingest `archive`, then [`round_trip_in`].
fn round_trip(archive: &Path, series: &str, posted: &[&str]) -> Vec<String> {
    let dir = Dir::new();
    dir.ingest(&[archive]);
    round_trip_in(&dir, archive, series, posted, Match::PatchIds)
}

/// Export `series` from the store in `dir`, rebuild its base, `git am` it
/// twice (plain and -3) and compare the commits with the posted mails
/// `posted` of `archive`; the commit messages of the plain run, oldest
/// first, each after a line with its author.
fn round_trip_in(
    dir: &Dir,
    archive: &Path,
    series: &str,
    posted: &[&str],
    how: Match,
) -> Vec<String> {
    let out = dir.ok(&["series", "mbox", series]);
    let mbox = out.stdout_bytes;
    let mbox_text = String::from_utf8(mbox.clone()).expect("series mbox is UTF-8");
    let files = rebuild(&mbox_text)
        .unwrap_or_else(|e| panic!("series {series}: cannot rebuild a base: {e}"));
    let work = dir.path().join(format!("series-{series}"));
    std::fs::create_dir_all(&work).expect("work folder");
    let repo = work.join("repo");
    let base = base_repo(&repo, &files);

    let diffs = posted_diffs(&work, &mails_by_id(archive, posted));
    let want_trees = posted_trees(&repo, &base, &diffs);
    let plain = am(&repo, &base, "plain", &[], &mbox);
    assert_eq!(
        plain.len(),
        posted.len(),
        "series {series}: one commit per patch"
    );
    assert_eq!(
        trees(&repo, &plain),
        want_trees,
        "series {series}: git am gave other trees"
    );
    let three = am(&repo, &base, "three-way", &["-3"], &mbox);
    assert_eq!(
        trees(&repo, &three),
        want_trees,
        "series {series}: git am -3 gave other trees"
    );
    if how == Match::PatchIds {
        let want: Vec<String> = diffs
            .iter()
            .map(|d| {
                let ids = patch_ids(&work, d);
                assert_eq!(ids.len(), 1, "one patch per mail: {ids:?}");
                ids[0].clone()
            })
            .collect();
        assert_eq!(
            commit_patch_ids(&repo, &plain),
            want,
            "series {series}: git am changed a patch"
        );
        assert_eq!(
            commit_patch_ids(&repo, &three),
            want,
            "series {series}: git am -3 changed a patch"
        );
    }

    plain
        .iter()
        .map(|c| git(&repo, &["log", "-1", "--format=%an <%ae>%n%B", c]))
        .collect()
}

#[test]
fn pmu_v4_series_mbox_applies_with_git_am_as_posted_with_marc_ack_in_every_commit() {
    let posted: Vec<String> = (1..=4).map(pmu_v4_patch).collect();
    let posted: Vec<&str> = posted.iter().map(String::as_str).collect();
    let messages = round_trip(&data(PMU), PMU_V4, &posted);
    let ack = format!("Acked-by: {MARC_ACK}");
    for (i, m) in messages.iter().enumerate() {
        assert!(
            m.starts_with("Ricardo Koller <ricarkol@google.com>\n"),
            "commit {} has another author:\n{m}",
            i + 1
        );
        let trailers: Vec<&str> = m
            .trim_end()
            .lines()
            .rev()
            .take_while(|l| !l.is_empty())
            .collect();
        assert!(
            trailers.contains(&ack.as_str()),
            "commit {} lacks `{ack}` in its trailers:\n{m}",
            i + 1
        );
        assert!(
            trailers.contains(&"Signed-off-by: Ricardo Koller <ricarkol@google.com>"),
            "commit {} lost its sign-off:\n{m}",
            i + 1
        );
    }
    // Trailers written in the patch stay; the ack is added after them.
    assert!(
        messages[0].contains(
            "Reviewed-by: Alexandru Elisei <alexandru.elisei@arm.com>\n\
             Signed-off-by: Ricardo Koller <ricarkol@google.com>\n\
             Acked-by: Marc Zyngier <maz@kernel.org>"
        ),
        "{}",
        messages[0]
    );
}

#[test]
fn patchwork_series_with_cover_letter_round_trips_through_git_am() {
    let cover = "1473632524-8585-1-git-send-email-stephenfinucane@gmail.com";
    let messages = round_trip(
        &data("patchwork-series-fixtures/base-cover-letter.mbox"),
        cover,
        &[
            "1473632524-8585-2-git-send-email-stephenfinucane@gmail.com",
            "1473632524-8585-3-git-send-email-stephenfinucane@gmail.com",
        ],
    );
    assert!(
        messages[0].contains("test: Add some lorem ipsum"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("test: Convert to Markdown"),
        "{}",
        messages[1]
    );
}

#[test]
fn every_complete_kvmarm_series_round_trips_through_git_am() {
    let archive = data(KVMARM);
    let dir = Dir::new();
    dir.ingest(&[&archive]);
    let mut tried = 0;
    for s in dir.series() {
        if s["complete"] != true {
            continue;
        }
        let id = num(&s, "id").to_string();
        let show = dir.json(&["series", "show", &id]);
        let patches = show["patches"].as_array().expect("patches is an array");
        let posted: Vec<&str> = patches.iter().map(|p| text(p, "message_id")).collect();
        let messages = round_trip_in(&dir, &archive, &id, &posted, Match::Trees);
        for (p, message) in patches.iter().zip(&messages) {
            for c in p["collected"].as_array().expect("collected is an array") {
                let line = format!(
                    "{}: {}",
                    text(&c["trailer"], "name"),
                    text(&c["trailer"], "value")
                );
                assert!(
                    message.lines().any(|l| l == line),
                    "series {id}: `{line}` collected but not in the commit:\n{message}"
                );
            }
        }
        tried += 1;
    }
    assert_eq!(tried, 23);
}

/// The rebuilder itself, checked against diffs real git made: changes at
/// the start, the middle and the end of a file, a file losing its final
/// newline, a new file and a deleted one, over three commits.
#[test]
fn rebuilt_base_takes_git_format_patch_output_with_the_same_patch_ids() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let origin = tmp.path().join("origin");
    let lines: Vec<String> = (1..=60).map(|n| format!("line {n}")).collect();
    let mut files = std::collections::BTreeMap::new();
    files.insert(
        "src/a.txt".to_string(),
        format!("{}\n", lines.join("\n")).into_bytes(),
    );
    files.insert("b.txt".to_string(), b"one\ntwo\nthree\n".to_vec());
    files.insert("gone.txt".to_string(), b"bye\n".to_vec());
    let base = base_repo(&origin, &files);

    let edit = |f: &dyn Fn(&mut Vec<String>)| {
        let path = origin.join("src/a.txt");
        let text = std::fs::read_to_string(&path).expect("a.txt");
        let mut l: Vec<String> = text.lines().map(str::to_string).collect();
        f(&mut l);
        std::fs::write(&path, format!("{}\n", l.join("\n"))).expect("a.txt written");
    };
    edit(&|l| {
        l[1] = "line 2, changed".into();
        l.insert(30, "inserted in the middle".into());
    });
    std::fs::write(origin.join("b.txt"), "one\ntwo\nthree, no newline").expect("b.txt");
    git(&origin, &["commit", "-q", "-am", "first"]);
    edit(&|l| {
        l.remove(31);
        let n = l.len();
        l[n - 1] = "the last line, changed".into();
    });
    std::fs::write(origin.join("new.txt"), "fresh\n").expect("new.txt");
    git(&origin, &["add", "new.txt"]);
    git(&origin, &["rm", "-q", "gone.txt"]);
    git(&origin, &["commit", "-q", "-am", "second"]);
    edit(&|l| l[30] = "inserted, then changed".into());
    git(&origin, &["commit", "-q", "-am", "third"]);

    let patches = git(
        &origin,
        &[
            "format-patch",
            "--stdout",
            "--no-renames",
            &format!("{base}..HEAD"),
        ],
    );
    let want = patch_ids(&origin, patches.as_bytes());
    let rebuilt = rebuild(&patches).unwrap_or_else(|e| panic!("cannot rebuild: {e}"));
    assert!(
        !rebuilt.contains_key("new.txt"),
        "a created file is not in the base"
    );
    let copy = tmp.path().join("copy");
    let copy_base = base_repo(&copy, &rebuilt);
    let commits = am(&copy, &copy_base, "applied", &[], patches.as_bytes());
    assert_eq!(commit_patch_ids(&copy, &commits), want);
    assert_eq!(
        std::fs::read(copy.join("b.txt")).expect("b.txt applied"),
        b"one\ntwo\nthree, no newline"
    );
}
