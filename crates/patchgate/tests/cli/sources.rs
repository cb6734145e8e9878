//! Every kind of source `patchgate ingest` accepts, through the binary: mbox
//! files in both dialects and both line ends, a Maildir, a public-inbox v2
//! archive read again after it grew, one message on stdin; and the two ways a
//! source cannot be read at all.

use crate::mails::{self, Envelope, FROM_LINE, GREET_1, GREET_2, GREET_COVER, QUOTED_FROM_LINE};
use crate::util::{git, git_with_stdin, num, text, Dir};
use serde_json::Value;
use std::path::Path;

/// The summary counts a test cares about: read, new, duplicates, unusable.
fn counts(summary: &Value) -> (i64, i64, i64, usize) {
    let unusable = summary["unusable"]
        .as_array()
        .unwrap_or_else(|| panic!("`unusable` is not an array in {summary:#}"))
        .len();
    (
        num(summary, "read"),
        num(summary, "new"),
        num(summary, "duplicates"),
        unusable,
    )
}

/// The one series the greet mails make, as `series show --json` prints it.
fn greet_series(dir: &Dir) -> Value {
    let list = dir.series();
    assert_eq!(list.len(), 1, "one series expected: {list:#?}");
    let show = dir.json(&["series", "show", GREET_COVER]);
    assert_eq!(text(&show, "subject"), "greet: say hello and goodbye");
    assert_eq!(num(&show, "version"), 2);
    assert_eq!(num(&show, "total"), 2);
    assert_eq!(show["complete"], true, "{show:#}");
    assert_eq!(text(&show, "message_id"), GREET_COVER);
    assert_eq!(show["author"]["email"], "ada@example.org");
    let patches: Vec<&str> = show["patches"]
        .as_array()
        .expect("patches is an array")
        .iter()
        .map(|p| text(p, "message_id"))
        .collect();
    assert_eq!(patches, [GREET_1, GREET_2]);
    show
}

/// Apply `series mbox` of the greet series to a fresh repository and return
/// the first commit's message, so the escaped lines can be checked.
fn am_greet(dir: &Dir, name: &str) -> String {
    let mbox = dir.ok(&["series", "mbox", GREET_COVER]).stdout_bytes;
    let repo = dir.path().join(format!("repo-{name}"));
    std::fs::create_dir_all(&repo).expect("repo folder");
    git(&repo, &["init", "-q", "-b", "master"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "base"]);
    git_with_stdin(&repo, &["am", "-q"], Some(mbox.as_slice()));
    let hello = std::fs::read_to_string(repo.join("hello.txt")).expect("hello.txt applied");
    assert_eq!(hello, "hello\nworld\n");
    let goodbye = std::fs::read_to_string(repo.join("goodbye.txt")).expect("goodbye.txt applied");
    assert_eq!(goodbye, "goodbye\n");
    git(&repo, &["log", "--format=%B", "-1", "HEAD~1"])
}

#[test]
fn mbox_in_each_dialect_and_line_end_gives_the_same_series() {
    let mut shown: Vec<(String, Value)> = Vec::new();
    for env in Envelope::ALL {
        let dir = Dir::new();
        let file = dir.write(&format!("{}.mbox", env.name()), env.mbox(&mails::greet()));
        let summary = dir.ingest(&[&file]);
        assert_eq!(
            counts(&summary),
            (3, 3, 0, 0),
            "{}: {summary:#}",
            env.name()
        );
        let show = greet_series(&dir);
        let message = am_greet(&dir, &env.name());
        assert!(
            message.lines().any(|l| l == FROM_LINE),
            "{}: the escaped `From ` line lost its text:\n{message}",
            env.name()
        );
        if env.rd {
            // Only mboxrd can tell an original `>From ` from an escaped `From `.
            assert!(
                message.lines().any(|l| l == QUOTED_FROM_LINE),
                "{}: the `>From ` line lost its quote:\n{message}",
                env.name()
            );
        }
        shown.push((env.name(), show));
    }
    let (first_name, first) = &shown[0];
    for (name, show) in &shown[1..] {
        assert_eq!(show, first, "{name} differs from {first_name}");
    }
}

#[test]
fn maildir_messages_in_cur_and_new_are_read_and_dot_files_skipped() {
    let dir = Dir::new();
    let greet = mails::greet();
    // tmp/ holds mail still being delivered: not to be read.
    dir.write(
        "inbox/tmp/1660000009.9.host",
        greet[0].replace(GREET_COVER, "in-delivery@x"),
    );
    dir.write("inbox/new/1660000000.1.host", &greet[0]);
    dir.write("inbox/cur/1660000001.2.host:2,S", &greet[1]);
    dir.write("inbox/cur/1660000002.3.host:2,", &greet[2]);
    dir.write(
        "inbox/cur/.1660000003.4.host",
        "not a message: a dot file\n",
    );
    let summary = dir.ingest(&[&dir.path().join("inbox")]);
    assert_eq!(counts(&summary), (3, 3, 0, 0), "{summary:#}");
    greet_series(&dir);
    let again = dir.ingest(&[&dir.path().join("inbox")]);
    assert_eq!(counts(&again), (3, 0, 3, 0), "{again:#}");
}

/// Append commits to the bare epoch repository `repo`, as public-inbox
/// writes them: `Some(mail)` adds the message as the blob `m`, `None`
/// removes it (a message deleted from the archive).
pub(crate) fn inbox_append(repo: &Path, commits: &[Option<&str>]) {
    if !repo.exists() {
        std::fs::create_dir_all(repo).expect("epoch folder");
        git(repo, &["init", "-q", "--bare", "-b", "master"]);
    }
    let has_head = crate::util::git_output(
        repo,
        &["rev-parse", "--verify", "-q", "refs/heads/master"],
        None,
    )
    .status
    .success();
    let mut stream = Vec::new();
    for (i, m) in commits.iter().enumerate() {
        let subject = m
            .and_then(|m| m.lines().find_map(|l| l.strip_prefix("Subject: ")))
            .unwrap_or("deleted");
        stream.extend_from_slice(b"commit refs/heads/master\n");
        stream.extend_from_slice(b"committer Inbox <inbox@example.org> 1660000000 +0000\n");
        stream.extend_from_slice(format!("data {}\n{subject}\n", subject.len() + 1).as_bytes());
        if i == 0 && has_head {
            // fast-import does not load existing branches on its own.
            stream.extend_from_slice(b"from refs/heads/master^0\n");
        }
        match m {
            Some(m) => {
                stream
                    .extend_from_slice(format!("M 100644 inline m\ndata {}\n", m.len()).as_bytes());
                stream.extend_from_slice(m.as_bytes());
                stream.extend_from_slice(b"\n");
            }
            None => stream.extend_from_slice(b"D m\n\n"),
        }
    }
    git_with_stdin(repo, &["fast-import", "--quiet"], Some(&stream));
}

#[test]
fn public_inbox_second_run_reads_only_the_commits_added_since() {
    let dir = Dir::new();
    let inbox = dir.path().join("lore");
    let greet = mails::greet();
    inbox_append(
        &inbox.join("git/0.git"),
        &[Some(&greet[0]), Some(&greet[1])],
    );
    inbox_append(&inbox.join("git/1.git"), &[Some(&greet[2])]);
    let first = dir.ingest(&[&inbox]);
    assert_eq!(counts(&first), (3, 3, 0, 0), "{first:#}");
    let show = greet_series(&dir);
    assert!(
        show["patches"][0]["collected"]
            .as_array()
            .is_some_and(|c| c.is_empty()),
        "{show:#}"
    );

    // The list goes on: a review of the cover letter, a new single patch.
    let ack = mails::reply(
        "greet-v2-0-ack@example.org",
        GREET_COVER,
        "[PATCH v2 0/2] greet: say hello and goodbye",
        "Acked-by: Grace Hopper <grace@example.org>",
    );
    let single = mails::mail(
        "other-1@example.org",
        None,
        "[PATCH] other: unrelated fix",
        "Wed, 3 Aug 2022 08:00:00 +0000",
        "A fix.\n\nSigned-off-by: Ada Lovelace <ada@example.org>\n---\n\
         diff --git a/x b/x\nnew file mode 100644\n--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+x\n",
    );
    inbox_append(&inbox.join("git/1.git"), &[Some(&ack), Some(&single)]);
    let second = dir.ingest(&[&inbox]);
    assert_eq!(counts(&second), (2, 2, 0, 0), "{second:#}");
    assert_eq!(dir.series().len(), 2);
    let show = dir.json(&["series", "show", GREET_1]);
    for p in show["patches"].as_array().expect("patches") {
        let acks: Vec<&Value> = p["collected"]
            .as_array()
            .expect("collected is an array")
            .iter()
            .map(|c| &c["trailer"]["value"])
            .collect();
        assert_eq!(acks, ["Grace Hopper <grace@example.org>"], "{p:#}");
    }

    let third = dir.ingest(&[&inbox]);
    assert_eq!(counts(&third), (0, 0, 0, 0), "{third:#}");

    // A deletion is passed over and moves the cursor like any commit.
    let late = mails::reply(
        "greet-v2-2-ack@example.org",
        GREET_2,
        "[PATCH v2 2/2] greet: say goodbye",
        "Reviewed-by: Grace Hopper <grace@example.org>",
    );
    inbox_append(&inbox.join("git/1.git"), &[None]);
    assert_eq!(counts(&dir.ingest(&[&inbox])), (0, 0, 0, 0));
    inbox_append(&inbox.join("git/1.git"), &[Some(&late)]);
    assert_eq!(counts(&dir.ingest(&[&inbox])), (1, 1, 0, 0));
}

#[test]
fn stdin_dash_reads_one_message() {
    let dir = Dir::new();
    let greet = mails::greet();
    let out = dir
        .run_with_stdin(&["ingest", "--json", "-"], greet[1].as_bytes())
        .code(0);
    assert_eq!(counts(&out.json()), (1, 1, 0, 0), "{}", out.stdout);
    let list = dir.series();
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(list[0]["missing"], serde_json::json!([2]));
    assert_eq!(list[0]["complete"], false);
    let again = dir
        .run_with_stdin(&["ingest", "--json", "-"], greet[1].as_bytes())
        .code(0);
    assert_eq!(counts(&again.json()), (1, 0, 1, 0), "{}", again.stdout);
}

#[test]
fn stdin_with_an_mta_envelope_line_is_the_same_mail_as_in_the_archive() {
    // Without a Message-ID the id comes from the bytes, so the envelope line
    // an MTA puts in front must not count among them.
    let dir = Dir::new();
    let greet = mails::greet();
    let bare = greet[1].replace(&format!("Message-ID: <{GREET_1}>\n"), "");
    let archive = dir.write(
        "list.mbox",
        Envelope::ALL[0].mbox(std::slice::from_ref(&bare)),
    );
    let first = dir.ingest(&[&archive]);
    assert_eq!(counts(&first), (1, 1, 0, 0), "{first:#}");
    let piped = format!("From ada@example.org Mon Aug  1 10:00:01 2022\n{bare}");
    let out = dir
        .run_with_stdin(&["ingest", "--json", "-"], piped.as_bytes())
        .code(0);
    let second = out.json();
    assert_eq!(
        counts(&second),
        (1, 0, 1, 0),
        "the piped mail was stored a second time: {second:#}"
    );
    assert_eq!(dir.series().len(), 1);
}

#[test]
fn unusable_mail_is_kept_with_its_reason_and_ingest_still_exits_0() {
    let dir = Dir::new();
    let mut all = mails::greet();
    all.insert(1, "\u{1}\u{2} not a mail at all\n".to_string());
    let file = dir.write("mixed.mbox", Envelope::ALL[0].mbox(&all));
    let summary = dir.ingest(&[&file]);
    assert_eq!(counts(&summary), (4, 4, 0, 1), "{summary:#}");
    let unusable = &summary["unusable"][0];
    assert_eq!(text(unusable, "source"), file.display().to_string());
    assert!(!text(unusable, "reason").is_empty(), "{summary:#}");
    let id = text(unusable, "message_id");
    assert!(!id.contains(['<', '>']), "{id}");
    greet_series(&dir);

    // The human summary shows it too; a re-ingest counts it as stored.
    let out = dir.ok(&["ingest", file.to_str().expect("utf-8 path")]);
    assert!(out.stdout.contains("4 already stored"), "{}", out.stdout);
    let again = dir.ingest(&[&file]);
    assert_eq!(counts(&again), (4, 0, 4, 0), "{again:#}");
}

#[test]
fn a_folder_that_is_no_mail_source_exits_2_naming_it_and_the_accepted_kinds() {
    let dir = Dir::new();
    let folder = dir.path().join("just-a-folder");
    std::fs::create_dir_all(folder.join("sub")).expect("folder");
    let out = dir
        .run(&["ingest", folder.to_str().expect("utf-8 path")])
        .code(2);
    let err = &out.stderr;
    assert!(err.contains(&folder.display().to_string()), "{err}");
    for kind in ["mbox", "Maildir", "public-inbox", "- for stdin"] {
        assert!(err.contains(kind), "`{kind}` not named:\n{err}");
    }
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn a_missing_file_exits_2_naming_it_once_with_the_reason() {
    let dir = Dir::new();
    let missing = dir.path().join("no-such.mbox");
    let out = dir
        .run(&["ingest", missing.to_str().expect("utf-8 path")])
        .code(2);
    let err = out.stderr.trim_end();
    let shown = missing.display().to_string();
    assert!(err.contains(&shown), "{err}");
    // The reason, once: a reader should not see the OS error twice.
    assert_eq!(
        err.matches("No such file or directory").count(),
        1,
        "the reason is repeated:\n{err}"
    );
}

/// What ingesting the PMU archive as a plain file gives: the summary's
/// counts and the series list, to compare every other way of reading it.
fn pmu_as_a_file() -> ((i64, i64, i64, usize), Vec<Value>) {
    let dir = Dir::new();
    let summary = dir.ingest(&[&crate::util::data(crate::archives::PMU)]);
    (counts(&summary), dir.series())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip runs");
    let mut stdin = child.stdin.take().expect("piped");
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write as _;
        stdin.write_all(&input).expect("gzip reads its input");
    });
    let out = child.wait_with_output().expect("gzip ends");
    writer.join().expect("written");
    assert!(out.status.success());
    out.stdout
}

#[test]
fn an_mbox_on_stdin_is_read_as_an_mbox_not_as_one_message() {
    let (want, series) = pmu_as_a_file();
    assert_eq!(want, (66, 66, 0, 0));
    let mbox = std::fs::read(crate::util::data(crate::archives::PMU)).expect("the archive");
    let dir = Dir::new();
    let out = dir
        .run_with_stdin(&["ingest", "--json", "-"], &mbox)
        .code(0);
    assert_eq!(counts(&out.json()), want, "{}", out.stdout);
    assert_eq!(dir.series(), series);
}

#[test]
fn a_gzipped_mbox_is_read_from_a_file_and_from_stdin() {
    let (want, series) = pmu_as_a_file();
    let mbox = std::fs::read(crate::util::data(crate::archives::PMU)).expect("the archive");
    let gz = gzip(&mbox);
    let dir = Dir::new();
    let file = dir.write("t.mbox.gz", &gz);
    assert_eq!(counts(&dir.ingest(&[&file])), want);
    assert_eq!(dir.series(), series);

    let piped = Dir::new();
    let out = piped
        .run_with_stdin(&["ingest", "--json", "-"], &gz)
        .code(0);
    assert_eq!(counts(&out.json()), want, "{}", out.stdout);
    assert_eq!(piped.series(), series);
}

#[test]
fn a_gzip_file_cut_short_stores_what_came_before_and_exits_2_naming_it() {
    let mbox = std::fs::read(crate::util::data(crate::archives::PMU)).expect("the archive");
    let gz = gzip(&mbox);
    let dir = Dir::new();
    let file = dir.write("t.mbox.gz", &gz[..gz.len() / 2]);
    let out = dir.run(&["ingest", file.to_str().expect("utf-8")]).code(2);
    assert!(
        out.stderr.contains(&file.display().to_string()),
        "{}",
        out.stderr
    );
    let stored = dir.series();
    assert!(!stored.is_empty(), "the mail before the cut was lost");
}

#[test]
fn a_pipe_path_from_process_substitution_is_read_as_an_mbox_stream() {
    let (want, series) = pmu_as_a_file();
    let dir = Dir::new();
    let script = format!(
        "exec {} --config {} ingest --json <(cat {})",
        env!("CARGO_BIN_EXE_patchgate"),
        dir.config().display(),
        crate::util::data(crate::archives::PMU).display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .env_remove("PATCHGATE_CONFIG")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(&stdout).expect("JSON summary");
    assert_eq!(counts(&summary), want, "{summary:#}");
    assert_eq!(dir.series(), series);
}

#[test]
fn a_public_inbox_epoch_that_is_no_git_repository_exits_2_naming_it() {
    let dir = Dir::new();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(inbox.join("git/0.git")).expect("epoch folder");
    // Inside another repository, git would read that one's history instead.
    git(dir.path(), &["init", "-q"]);
    let out = dir
        .run(&["ingest", inbox.to_str().expect("utf-8 path")])
        .code(2);
    let epoch = inbox.join("git/0.git").display().to_string();
    assert!(out.stderr.contains(&epoch), "{}", out.stderr);
    assert!(
        out.stderr.contains("is not a git repository"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);

    std::fs::remove_dir_all(dir.path().join(".git")).expect("outer repository removed");
    let out = dir
        .run(&["ingest", inbox.to_str().expect("utf-8 path")])
        .code(2);
    assert!(out.stderr.contains(&epoch), "{}", out.stderr);

    // An epoch cloned with a work tree is still a repository.
    git(&inbox.join("git/0.git"), &["init", "-q"]);
    let summary = dir.ingest(&[&inbox]);
    assert_eq!(counts(&summary), (0, 0, 0, 0), "{summary:#}");
}

/// A commit message whose lines an mbox can mistake: one starting `From `,
/// one starting `>From `, and one git mailsplit would take for an envelope.
const TRICKY_MESSAGE: &str = "greet: say it twice\n\n\
From here on, the greeting is said twice.\n\
>From a quoted reply: say it again.\n\
From then on 10:30:00 1999 it ran, a line shaped like an envelope.\n\n\
Signed-off-by: Ada Lovelace <ada@example.org>\n";

#[test]
fn series_mbox_applies_with_plain_git_am_keeping_every_from_line_byte_for_byte() {
    let dir = Dir::new();
    let repo = dir.path().join("posted");
    std::fs::create_dir_all(&repo).expect("repo folder");
    git(&repo, &["init", "-q", "-b", "master"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "base"]);
    std::fs::write(repo.join("twice.txt"), "hello\nhello\n").expect("file");
    git(&repo, &["add", "twice.txt"]);
    git(&repo, &["commit", "-q", "-m", TRICKY_MESSAGE]);
    let patch = git(
        &repo,
        &[
            "format-patch",
            "-1",
            "--stdout",
            "--add-header=Message-ID: <tricky@example.org>",
        ],
    );
    // The list archives it as mboxrd, envelope line its own.
    let posted = patch.split_once('\n').expect("an envelope line").1;
    let archive = dir.write("list.mbox", Envelope::ALL[0].mbox(&[posted.to_string()]));
    dir.ingest(&[&archive]);
    let mbox = dir
        .ok(&["series", "mbox", "tricky@example.org"])
        .stdout_bytes;

    let applied = dir.path().join("applied");
    std::fs::create_dir_all(&applied).expect("repo folder");
    git(&applied, &["init", "-q", "-b", "master"]);
    git(&applied, &["commit", "-q", "--allow-empty", "-m", "base"]);
    git_with_stdin(&applied, &["am", "-q"], Some(&mbox));
    assert_eq!(
        git(&applied, &["log", "-1", "--format=%B"]),
        git(&repo, &["log", "-1", "--format=%B"]),
        "the commit message changed on its way through series mbox"
    );
    let id = |r: &Path| {
        let show = git(r, &["show", "HEAD"]);
        git_with_stdin(r, &["patch-id", "--stable"], Some(show.as_bytes()))
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(id(&applied), id(&repo));
    assert_eq!(
        git(&applied, &["rev-list", "--count", "HEAD"]).trim(),
        "2",
        "one commit, not a mail cut in two"
    );
}
