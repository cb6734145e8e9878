//! Reviews that anyone could fake: a `Reviewed-by:` naming a trusted
//! maintainer in someone else's mail, the author reviewing their own patch,
//! a review inside a quoted code block, and a sign-off that is not the
//! author's. None may count; `series show` says which did not and why.

use crate::repo::{format_patch, git, publish, repo};
use crate::util::Env;

const T0: i64 = 1_600_000_000;

fn message_id(mbox: &str) -> String {
    let line = mbox
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
        .expect("format-patch writes a Message-ID");
    line.split_once(':')
        .map(|(_, v)| v.trim().trim_matches(['<', '>']).to_string())
        .expect("a value")
}

fn reply(from: &str, to_id: &str, n: u32, body: &str) -> String {
    format!(
        "From mboxrd@z Thu Jan  1 00:00:00 1970\n\
         From: {from}\n\
         Subject: Re: [PATCH] calc: change it\n\
         Date: Mon, 14 Sep 2020 12:{n:02}:00 +0000\n\
         Message-ID: <reply-{n}@example.org>\n\
         In-Reply-To: <{to_id}>\n\
         References: <{to_id}>\n\n\
         > the patch\n\n{body}\n\n"
    )
}

/// A one-patch series by Ann, its replies, and a tree whose queue needs a
/// review from Trusted; returns the env after ingest.
fn posted(signoff: &str, replies: &[(&str, &str)]) -> Env {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", "one\n", T0);
    git(&work, T0, &["checkout", "-q", "-b", "topic"]);
    std::fs::write(work.join("a.txt"), "two\n").expect("write");
    git(&work, T0 + 60, &["add", "-A"]);
    git(
        &work,
        T0 + 60,
        &[
            "commit",
            "-q",
            "-m",
            &format!("calc: change it\n\n{signoff}"),
        ],
    );
    let patch = String::from_utf8(format_patch(&work, "master..topic", T0 + 60)).expect("utf-8");
    git(&work, T0, &["checkout", "-q", "master"]);
    publish(&work, &env.path().join("up.git"));
    let id = message_id(&patch);
    let mut mbox = patch.clone();
    for (n, (from, body)) in replies.iter().enumerate() {
        mbox.push_str(&reply(from, &id, n as u32 + 1, body));
    }
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        "[tree.t]\nrepo = \"up.git\"\n[tree.t.suite.ok]\nrun = \"true\"\n\
         [tree.t.branch.queue]\nfrom = \"master\"\n\
         requires = [\"ok\", \"reviews >= 1 from [trusted@example.org, ann@example.org]\", \"signed-off\"]\n",
    )
    .expect("config");
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    env
}

fn rule<'a>(report: &'a serde_json::Value, prefix: &str) -> &'a serde_json::Value {
    report["rules"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|x| x["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
        })
        .unwrap_or_else(|| panic!("no rule {prefix}: {report:#}"))
}

const SOB: &str = "Signed-off-by: Ann Author <ann@example.org>";

#[test]
fn forged_own_and_fenced_reviews_do_not_count_and_show_says_why() {
    let env = posted(
        SOB,
        &[
            (
                "Mallory <mallory@example.org>",
                "Reviewed-by: Trusted Maintainer <trusted@example.org>",
            ),
            (
                "Ann Author <ann@example.org>",
                "Reviewed-by: Ann Author <ann@example.org>",
            ),
            (
                "Trusted Maintainer <trusted@example.org>",
                "It landed elsewhere as:\n\n```\nReviewed-by: Trusted Maintainer <trusted@example.org>\n```",
            ),
        ],
    );
    let report = env.json(&["test", "1", "--json"]);
    let reviews = rule(&report, "reviews");
    assert_eq!(reviews["status"], "pending", "{report:#}");
    let reason = reviews["reason"].as_str().unwrap_or("");
    assert!(reason.contains("has 0"), "{reason}");
    assert!(
        reason.contains("trusted@example.org's was sent by mallory@example.org"),
        "{reason}"
    );
    assert!(
        reason.contains("ann@example.org reviewing their own patch"),
        "{reason}"
    );
    assert_eq!(report["verdict"], "fail");

    let show = env.ok(&["series", "show", "1"]);
    assert!(
        show.contains("sent by mallory@example.org, not by whom it names: does not count"),
        "{show}"
    );
    assert!(
        show.contains("by the patch's author: does not count"),
        "{show}"
    );
    assert_eq!(
        show.matches("Reviewed-by").count(),
        2,
        "the fenced one is not collected:\n{show}"
    );
}

#[test]
fn a_review_its_reviewer_sent_counts() {
    let env = posted(
        SOB,
        &[(
            "Trusted Maintainer <Trusted@Example.org>",
            "Reviewed-by: Trusted Maintainer <trusted@example.org>",
        )],
    );
    let report = env.json(&["test", "1", "--json"]);
    assert_eq!(rule(&report, "reviews")["status"], "pass", "{report:#}");
    assert_eq!(rule(&report, "signed-off")["status"], "pass", "{report:#}");
    assert_eq!(report["verdict"], "pass", "{report:#}");
}

#[test]
fn a_sign_off_that_is_not_the_authors_fails() {
    let env = posted(
        "Signed-off-by: Someone Else <else@example.org>",
        &[(
            "Trusted Maintainer <trusted@example.org>",
            "Reviewed-by: Trusted Maintainer <trusted@example.org>",
        )],
    );
    let report = env.json(&["test", "1", "--json"]);
    let signed = rule(&report, "signed-off");
    assert_eq!(signed["status"], "fail", "{report:#}");
    assert!(
        signed["reason"]
            .as_str()
            .is_some_and(|r| r.contains("from its author")),
        "{report:#}"
    );
}

/// v1 of a patch with replies, then v2 carrying `carried` in its commit
/// message; returns v2's report.
fn carried_into_v2(replies: &[(&str, &str)], carried: &str) -> serde_json::Value {
    carried_into_v2_by(replies, carried, None)
}

/// [`carried_into_v2`], the v2 sent by `hijacker` as a reply to v1 (so
/// the two are one topic) when given.
fn carried_into_v2_by(
    replies: &[(&str, &str)],
    carried: &str,
    hijacker: Option<&str>,
) -> serde_json::Value {
    let env = Env::new("");
    let work = repo(env.path(), "a.txt", "one\n", T0);
    git(&work, T0, &["checkout", "-q", "-b", "topic"]);
    std::fs::write(work.join("a.txt"), "two\n").expect("write");
    git(&work, T0 + 60, &["add", "-A"]);
    git(
        &work,
        T0 + 60,
        &["commit", "-q", "-m", &format!("calc: change it\n\n{SOB}")],
    );
    let v1 = String::from_utf8(format_patch(&work, "master..topic", T0 + 60)).expect("utf-8");
    let id = message_id(&v1);
    git(
        &work,
        T0 + 3600,
        &[
            "commit",
            "-q",
            "--amend",
            "-m",
            &format!("calc: change it\n\n{carried}\n{SOB}"),
        ],
    );
    let v2 = git(
        &work,
        T0 + 3600,
        &["format-patch", "--stdout", "-v2", "master..topic"],
    );
    let v2 = match hijacker {
        None => v2,
        Some(from) => v2
            .replace(
                "From: Ann Author <ann@example.org>",
                &format!("From: {from}"),
            )
            .replacen("\nSubject:", &format!("\nIn-Reply-To: <{id}>\nSubject:"), 1),
    };
    git(&work, T0, &["checkout", "-q", "master"]);
    publish(&work, &env.path().join("up.git"));
    let mut mbox = v1.clone();
    for (n, (from, body)) in replies.iter().enumerate() {
        mbox.push_str(&reply(from, &id, n as u32 + 1, body));
    }
    mbox.push_str(&v2);
    mbox.push('\n');
    std::fs::write(env.path().join("list.mbox"), &mbox).expect("mbox");
    std::fs::write(
        env.path().join("patchgate.toml"),
        "[tree.t]\nrepo = \"up.git\"\n[tree.t.suite.ok]\nrun = \"true\"\n\
         [tree.t.branch.queue]\nrequires = [\"ok\", \"reviews >= 1\"]\n",
    )
    .expect("config");
    let list = env.path().join("list.mbox");
    env.ok(&["ingest", list.to_str().expect("utf-8")]);
    let series = env.json(&["series", "list", "--json"]);
    let v2_id = series
        .as_array()
        .and_then(|s| s.iter().find(|x| x["version"] == 2))
        .map(|x| x["id"].to_string())
        .unwrap_or_else(|| panic!("no v2: {series:#}"));
    env.json(&["test", &v2_id, "--json"])
}

#[test]
fn a_review_carried_into_v2_counts_when_its_reviewer_gave_it_on_v1() {
    let report = carried_into_v2(
        &[(
            "Trusted Maintainer <trusted@example.org>",
            "Reviewed-by: Trusted Maintainer <trusted@example.org>",
        )],
        "Reviewed-by: Trusted Maintainer <trusted@example.org>",
    );
    assert_eq!(rule(&report, "reviews")["status"], "pass", "{report:#}");
}

#[test]
fn a_review_carried_into_v2_that_nobody_gave_is_a_claim() {
    let report = carried_into_v2(
        &[(
            "Mallory <mallory@example.org>",
            "Reviewed-by: Trusted Maintainer <trusted@example.org>",
        )],
        "Reviewed-by: Trusted Maintainer <trusted@example.org>",
    );
    let reviews = rule(&report, "reviews");
    assert_eq!(reviews["status"], "pending", "{report:#}");
    assert!(
        reviews["reason"]
            .as_str()
            .is_some_and(|r| r.contains("trusted@example.org's was sent by ann@example.org")),
        "{report:#}"
    );
}

#[test]
fn a_review_carried_into_someone_elses_v2_is_a_claim() {
    // Mallory threads a "v2" of Ann's reviewed patch under it, carrying the
    // review: it was given for Ann's patch, not for Mallory's.
    let report = carried_into_v2_by(
        &[(
            "Trusted Maintainer <trusted@example.org>",
            "Reviewed-by: Trusted Maintainer <trusted@example.org>",
        )],
        "Reviewed-by: Trusted Maintainer <trusted@example.org>",
        Some("Mallory <mallory@example.org>"),
    );
    assert_eq!(rule(&report, "reviews")["status"], "pending", "{report:#}");
}
