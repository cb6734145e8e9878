//! Evaluating one clause of a branch policy against what is known about a
//! series: its suites, files and trailers. Reasons are written for the
//! submitter who reads them in a report mail.

use crate::classify::{Class, SuiteReport, SuiteStatus, TestReport};
use crate::policy::{Clause, IncludesTest};
use patchgate_results::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How many names a reason lists before it says "and N more".
const NAMES_SHOWN: usize = 5;

/// The state of one rule in the `test` JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleStatus {
    Pass,
    Fail,
    /// Not met yet, but may be without a new revision (reviews to come).
    Pending,
}

/// One rule in the `test` JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    pub name: String,
    pub status: RuleStatus,
    pub reason: String,
}

/// One trailer collected for the series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trailer {
    /// `Reviewed-by`, `Acked-by`, `Signed-off-by`, … (compared case-insensitively).
    pub name: String,
    /// `Jane Doe <jane@example.org>`.
    pub value: String,
    /// The address of whoever sent the mail that carried it (the poster
    /// behind a list's DMARC rewrite). A review or ack counts only when it
    /// is the address the trailer names.
    #[serde(default)]
    pub from: Option<String>,
    /// The patch (1-based) it applies to; `None` for the whole series, as a
    /// reply to the cover letter does.
    #[serde(default)]
    pub patch: Option<u32>,
    /// Written in the patch itself rather than given in a reply.
    #[serde(default)]
    pub in_patch: bool,
}

/// Whether `trailer` was sent by the person it names: the only way anyone
/// can give a review or an ack. Anyone may write `Reviewed-by: Trusted
/// <trusted@…>` in a mail of their own; such a line is a claim, not a
/// review. Nothing more is verified here: a From header can be forged as
/// well, which only DKIM or patatt signatures would catch.
pub fn sent_by_named(trailer: &Trailer) -> bool {
    let (_, email) = identity(&trailer.value);
    !email.is_empty()
        && trailer
            .from
            .as_deref()
            .is_some_and(|from| from.trim().eq_ignore_ascii_case(&email))
}

/// The facts about a series the non-suite rules look at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts<'a> {
    pub applied: bool,
    pub suites: &'a [SuiteReport],
    pub files_changed: &'a [String],
    pub trailers: &'a [Trailer],
    pub patch_count: u32,
    /// Each patch's author's address, patch 1 first.
    pub authors: &'a [String],
}

impl Facts<'_> {
    fn author_of(&self, patch: u32) -> Option<&str> {
        let i = usize::try_from(patch.checked_sub(1)?).ok()?;
        self.authors.get(i).map(String::as_str)
    }

    /// Whether `email` wrote patch `p` (any patch, for the series).
    fn is_author(&self, email: &str, p: Option<u32>) -> bool {
        match p {
            Some(n) => self
                .author_of(n)
                .is_some_and(|a| a.eq_ignore_ascii_case(email)),
            None => self.authors.iter().any(|a| a.eq_ignore_ascii_case(email)),
        }
    }
}

pub(crate) fn evaluate(
    clause: &Clause,
    rule: Option<&IncludesTest>,
    facts: &Facts<'_>,
) -> RuleResult {
    let (status, reason) = match clause {
        Clause::Suite { name } => suite(name, facts),
        Clause::Reviews { min, from } => {
            counted("Reviewed-by", "review", *min, from.as_deref(), facts)
        }
        Clause::Acks { min, from } => counted("Acked-by", "ack", *min, from.as_deref(), facts),
        Clause::IncludesTest => match rule {
            Some(rule) => includes_test(rule, facts.files_changed),
            None => (
                RuleStatus::Fail,
                "includes-test has no code and tests globs configured".to_string(),
            ),
        },
        Clause::SignedOff => signed_off(facts),
    };
    RuleResult {
        name: clause.to_string(),
        status,
        reason,
    }
}

/// `a, b, c and 2 more`.
pub(crate) fn list(names: &[&str]) -> String {
    let shown: Vec<&str> = names.iter().take(NAMES_SHOWN).copied().collect();
    let rest = names.len().saturating_sub(NAMES_SHOWN);
    match (shown.split_last(), rest) {
        (None, _) => String::new(),
        (Some((last, [])), 0) => (*last).to_string(),
        (Some((last, init)), 0) => format!("{} and {last}", init.join(", ")),
        (Some(_), n) => format!("{} and {n} more", shown.join(", ")),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn names_of(tests: &[TestReport], pick: impl Fn(&TestReport) -> bool) -> Vec<&str> {
    tests
        .iter()
        .filter(|t| pick(t))
        .map(|t| t.name.as_str())
        .collect()
}

fn suite(name: &str, facts: &Facts<'_>) -> (RuleStatus, String) {
    if !facts.applied {
        return (
            RuleStatus::Fail,
            "not run: the series did not apply".to_string(),
        );
    }
    let Some(report) = facts.suites.iter().find(|s| s.name == name) else {
        return (RuleStatus::Fail, format!("{name} did not run"));
    };
    let notes = if report.notes.is_empty() {
        String::new()
    } else {
        format!(": {}", report.notes.join("; "))
    };
    // A base that is broken for this suite is no reference: a failure with
    // the series could be its own or the base's, so neither passes nor
    // blames. A series that passes where the base fails is judged: it
    // fixes the base.
    if let Some(why) = &report.base_broken {
        if report.status != SuiteStatus::Pass {
            return (
                RuleStatus::Pending,
                format!(
                    "the base is broken: {name} {why}, so the series cannot be judged by it \
                     until the base is fixed"
                ),
            );
        }
    }
    match report.status {
        SuiteStatus::Timeout => return (RuleStatus::Fail, format!("{name} timed out{notes}")),
        SuiteStatus::Error => {
            return (
                RuleStatus::Fail,
                format!("{name} did not run to its end{notes}"),
            )
        }
        SuiteStatus::Pass | SuiteStatus::Fail => {}
    }
    let tests = &report.tests;
    // An exit-code suite reports one test named after itself: speak of the
    // suite, not of "1 test".
    if let [only] = tests.as_slice() {
        if only.name == name {
            return match (only.class, only.status) {
                (Class::Regression, _) => (
                    RuleStatus::Fail,
                    format!("{name} fails with the series on every attempt and passes on the base"),
                ),
                (Class::New, Status::Fail) => {
                    (RuleStatus::Fail, format!("{name} fails with the series"))
                }
                (Class::PreExisting, _) => (
                    RuleStatus::Pass,
                    format!("{name} fails on the base too; not caused by the series"),
                ),
                (Class::Flaky, Status::Fail) => (
                    RuleStatus::Pass,
                    format!("{name} is flaky (passed and failed on one commit)"),
                ),
                _ => (RuleStatus::Pass, format!("{name} passed")),
            };
        }
    }
    // What blames the series is defined once, by TestReport::blames_series;
    // here it is only told apart by kind for the sentence.
    let regressions = names_of(tests, |t| t.blames_series() && t.class == Class::Regression);
    let new_failing = names_of(tests, |t| t.blames_series() && t.class == Class::New);
    let mut blame = Vec::new();
    if !regressions.is_empty() {
        blame.push(format!(
            "{} regressed (pass on the base, fail with the series on every attempt): {}",
            plural(regressions.len(), "test", "tests"),
            list(&regressions)
        ));
    }
    if !new_failing.is_empty() {
        blame.push(format!(
            "{} the series adds {}: {}",
            plural(new_failing.len(), "test", "tests"),
            if new_failing.len() == 1 {
                "fails"
            } else {
                "fail"
            },
            list(&new_failing)
        ));
    }
    if !blame.is_empty() {
        return (RuleStatus::Fail, blame.join("; "));
    }
    let passed = tests.iter().filter(|t| t.status == Status::Pass).count();
    let mut parts = vec![format!("{passed} passed")];
    let mut add = |class: Class, label: &str| {
        let names = names_of(tests, |t| {
            t.class == class && (class == Class::Fixed || t.status == Status::Fail)
        });
        if !names.is_empty() {
            parts.push(format!("{} {label} ({})", names.len(), list(&names)));
        }
    };
    add(Class::PreExisting, "failing on the base too");
    add(Class::Flaky, "flaky");
    add(Class::Fixed, "fixed by the series");
    let mut reason = parts.join(", ");
    if report.status == SuiteStatus::Fail {
        reason.push_str("; none of the failures is caused by the series");
    }
    (RuleStatus::Pass, reason)
}

/// The identity of a person in a trailer value: the email if there is one.
fn identity(value: &str) -> (String, String) {
    let name = value.split('<').next().unwrap_or("").trim().to_lowercase();
    let email = value
        .split_once('<')
        .and_then(|(_, r)| r.split_once('>'))
        .map(|(e, _)| e.trim().to_lowercase())
        .unwrap_or_else(|| {
            if value.contains('@') {
                value.trim().to_lowercase()
            } else {
                String::new()
            }
        });
    (name, email)
}

fn listed(value: &str, from: &[String]) -> bool {
    let (name, email) = identity(value);
    from.iter().any(|who| {
        let who = who.trim().to_lowercase();
        if who.contains('@') {
            who == email
        } else {
            who == name
        }
    })
}

fn counted(
    trailer: &str,
    noun: &str,
    min: u32,
    from: Option<&[String]>,
    facts: &Facts<'_>,
) -> (RuleStatus, String) {
    let patches: Vec<Option<u32>> = if facts.patch_count == 0 {
        vec![None]
    } else {
        (1..=facts.patch_count).map(Some).collect()
    };
    let named = |t: &&Trailer| t.name.eq_ignore_ascii_case(trailer);
    // Claims that do not count, said once each in the reason.
    let mut forged: BTreeSet<String> = BTreeSet::new();
    let mut own: BTreeSet<String> = BTreeSet::new();
    // Per patch: the distinct people who gave this trailer for it.
    let per_patch: Vec<(Option<u32>, BTreeSet<String>)> = patches
        .into_iter()
        .map(|p| {
            let mut people = BTreeSet::new();
            for t in facts
                .trailers
                .iter()
                .filter(named)
                .filter(|t| p.is_none() || t.patch.is_none() || t.patch == p)
                .filter(|t| from.is_none_or(|f| listed(&t.value, f)))
            {
                let (name, email) = identity(&t.value);
                let who = if email.is_empty() { name } else { email };
                if who.is_empty() {
                    continue;
                }
                if !sent_by_named(t) {
                    forged.insert(format!(
                        "{}'s was sent by {}",
                        who,
                        t.from
                            .as_deref()
                            .filter(|f| !f.is_empty())
                            .unwrap_or("nobody known")
                    ));
                    continue;
                }
                if facts.is_author(&who, p) || facts.is_author(&who, t.patch) {
                    own.insert(who);
                    continue;
                }
                people.insert(who);
            }
            (p, people)
        })
        .collect();
    let has = per_patch.iter().map(|(_, s)| s.len()).min().unwrap_or(0);
    let whom = from
        .map(|f| format!(" from {}", f.join(" or ")))
        .unwrap_or_default();
    let want = plural(min as usize, noun, &format!("{noun}s"));
    let mut not_counted = Vec::new();
    if !forged.is_empty() {
        let refs: Vec<&str> = forged.iter().map(String::as_str).collect();
        let article = if trailer.starts_with(['A', 'E', 'I', 'O', 'U']) {
            "an"
        } else {
            "a"
        };
        not_counted.push(format!(
            "not counted: {article} {trailer} counts only in a mail its reviewer sent, and {}",
            list(&refs)
        ));
    }
    if !own.is_empty() {
        let refs: Vec<&str> = own.iter().map(String::as_str).collect();
        not_counted.push(format!(
            "not counted: {} reviewing their own patch",
            list(&refs)
        ));
    }
    let notes = if not_counted.is_empty() {
        String::new()
    } else {
        format!(" ({})", not_counted.join("; "))
    };
    if has >= min as usize {
        return (
            RuleStatus::Pass,
            format!(
                "has {}{whom}{notes}",
                plural(has, noun, &format!("{noun}s"))
            ),
        );
    }
    let short: Vec<String> = per_patch
        .iter()
        .filter(|(p, s)| p.is_some() && s.len() < min as usize)
        .filter_map(|(p, _)| p.map(|n| n.to_string()))
        .collect();
    let mut reason = format!("needs {want}{whom}, has {has}");
    if facts.patch_count > 1 && short.len() < per_patch.len() {
        let refs: Vec<&str> = short.iter().map(String::as_str).collect();
        reason.push_str(&format!(" (short on patch {})", list(&refs)));
    }
    reason.push_str(&notes);
    (RuleStatus::Pending, reason)
}

/// Every patch carries its author's own `Signed-off-by:` (the Developer's
/// Certificate of Origin is the author's to give): someone else's sign-off,
/// or one given in a reply, does not stand in for it.
fn signed_off(facts: &Facts<'_>) -> (RuleStatus, String) {
    let signed = |p: Option<u32>| {
        facts.trailers.iter().any(|t| {
            t.name.eq_ignore_ascii_case("Signed-off-by")
                && t.in_patch
                && (p.is_none() || t.patch == p)
                && facts.is_author(&identity(&t.value).1, p)
        })
    };
    let missing: Vec<String> = if facts.patch_count == 0 {
        if signed(None) {
            vec![]
        } else {
            vec!["the series".to_string()]
        }
    } else {
        (1..=facts.patch_count)
            .filter(|&n| !signed(Some(n)))
            .map(|n| format!("patch {n}"))
            .collect()
    };
    if missing.is_empty() {
        return (
            RuleStatus::Pass,
            "every patch is signed off by its author".to_string(),
        );
    }
    let refs: Vec<&str> = missing.iter().map(String::as_str).collect();
    (
        RuleStatus::Fail,
        format!(
            "{} no Signed-off-by: line from {} author; add one (git commit -s) to certify you may submit the change",
            if missing.len() == 1 { format!("{} has", list(&refs)) } else { format!("{} have", list(&refs)) },
            if missing.len() == 1 { "its" } else { "their" }
        ),
    )
}

/// `under tests/**` reads better than `matching tests/**` for a directory.
fn globs_phrase(globs: &[String]) -> String {
    let parts: Vec<String> = globs
        .iter()
        .map(|g| {
            if g.ends_with("/**") {
                format!("under {g}")
            } else {
                format!("matching {g}")
            }
        })
        .collect();
    parts.join(" or ")
}

fn includes_test(rule: &IncludesTest, files: &[String]) -> (RuleStatus, String) {
    // A file that matches both lists is a test: tests/ often sits inside src/.
    let tests: Vec<&str> = files
        .iter()
        .filter(|f| rule.is_test(f))
        .map(String::as_str)
        .collect();
    let code: Vec<&str> = files
        .iter()
        .filter(|f| rule.is_code(f) && !rule.is_test(f))
        .map(String::as_str)
        .collect();
    if code.is_empty() {
        let reason = if files.is_empty() {
            "changes no files".to_string()
        } else {
            format!(
                "changes no code (only {})",
                list(&files.iter().map(String::as_str).collect::<Vec<_>>())
            )
        };
        return (RuleStatus::Pass, reason);
    }
    if tests.is_empty() {
        return (
            RuleStatus::Fail,
            format!(
                "changes {} but no file {}; add or extend a test",
                list(&code),
                globs_phrase(&rule.tests)
            ),
        );
    }
    let which = if tests.len() == 1 {
        "the test"
    } else {
        "the tests"
    };
    (
        RuleStatus::Pass,
        format!("changes {} and {which} {}", list(&code), list(&tests)),
    )
}
