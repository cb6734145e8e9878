//! The human text of what patchgate found: a test's verdict and a series
//! as a person reads them at a terminal. One place, so the command line,
//! the report mails and the web pages say the same thing the same way.
//! Pure: values in, text out.

use patchgate_gate::{Class, RuleStatus, SuiteStatus, VerdictStatus};
use patchgate_store::{SeriesDetail, SeriesRecord};

use crate::testing::{short, TestReport};

/// `writeln!` into a String, which cannot fail.
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

/// `1 test`, `2 tests`.
pub fn plural(n: impl TryInto<u64>, one: &str, many: &str) -> String {
    let n: u64 = n.try_into().unwrap_or(u64::MAX);
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `2022-08-11 18:52 UTC`, or `-` when unknown.
pub fn date(t: Option<i64>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "-".into())
}

/// A series' state, with the revision that superseded it.
pub fn state_cell(s: &SeriesRecord) -> String {
    match s.superseded_by {
        Some(by) => format!("{} by {by}", s.state),
        None => s.state.to_string(),
    }
}

/// The report as a submitter reads it: where it was applied, each suite with
/// the tests worth a look, each rule with its reason, and the verdict.
pub fn verdict(r: &TestReport) -> String {
    let mut out = String::new();
    let verdict = match r.verdict.verdict {
        VerdictStatus::Pass => "PASS",
        VerdictStatus::Fail => "FAIL",
    };
    out.push_str(&format!(
        "series {} on {}/{}: {verdict}\n",
        r.series, r.tree, r.branch
    ));
    if let (Some(base), Some(why)) = (&r.base, &r.base_reason) {
        let what = if r.verdict.applied {
            "applied to"
        } else {
            "tried on"
        };
        out.push_str(&format!("  {what} {} ({why})\n", short(base)));
    }
    if let Some(f) = &r.apply_failure {
        out.push_str(&format!("  does not apply: {}\n", f.explain()));
    }
    if let Some(landed) = &r.already_applied {
        if r.head.is_some() {
            out.push_str(&format!(
                "  landed: the series is {} (it changes nothing there); tested on the base above\n",
                landed.where_landed()
            ));
        } else {
            out.push_str(&format!("  already applied: {}\n", landed.explain()));
        }
    }
    for s in &r.verdict.suites {
        let status = match s.status {
            SuiteStatus::Pass => "pass",
            SuiteStatus::Fail => "fail",
            SuiteStatus::Error => "error",
            SuiteStatus::Timeout => "timeout",
        };
        let count = |c: Class| s.tests.iter().filter(|t| t.class == c).count();
        out.push_str(&format!(
            "  suite {}: {status} ({}: {} regression, {} pre-existing, {} flaky, {} fixed, {} new)\n",
            s.name,
            plural(s.tests.len(), "test", "tests"),
            count(Class::Regression),
            count(Class::PreExisting),
            count(Class::Flaky),
            count(Class::Fixed),
            count(Class::New),
        ));
        for t in s.tests.iter().filter(|t| t.class != Class::Ok) {
            let class = serde_json::to_value(t.class)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            out.push_str(&format!("    {:<13} {} ({})\n", class, t.name, t.status));
        }
        for n in &s.notes {
            out.push_str(&format!("    note: {n}\n"));
        }
    }
    for rule in &r.verdict.rules {
        let mark = match rule.status {
            RuleStatus::Pass => "ok     ",
            RuleStatus::Fail => "FAILED ",
            RuleStatus::Pending => "pending",
        };
        out.push_str(&format!("  rule {mark} {}: {}\n", rule.name, rule.reason));
    }
    out
}

/// A series as `patchgate series show` prints it: its record, its
/// revisions (`revisions`, oldest first, of its topic) and each patch with
/// the trailers collected for it, marking those that do not count.
pub fn series(d: &SeriesDetail, revisions: &[SeriesRecord]) -> String {
    let mut out = String::new();
    let s = &d.series;
    outln!(out, "Series {}: {}", s.id, s.subject);
    outln!(out, "  version   v{} of topic {}", s.version, s.topic);
    outln!(out, "  author    {} <{}>", s.author.name, s.author.email);
    outln!(out, "  date      {}", date(s.date));
    outln!(out, "  state     {}", state_cell(s));
    if s.complete {
        outln!(out, "  patches   {} (complete)", s.total);
    } else {
        let missing: Vec<String> = s.missing.iter().map(u32::to_string).collect();
        outln!(
            out,
            "  patches   {} of {}; missing {}",
            s.received,
            s.total,
            missing.join(", ")
        );
    }
    if !s.tags.is_empty() {
        outln!(out, "  tags      {}", s.tags.join(" "));
    }
    if let Some(b) = &s.base_commit {
        outln!(out, "  base      {b}");
    }
    match &d.cover {
        Some(c) => outln!(out, "  cover     {}", c.message_id),
        None => outln!(out, "  cover     none"),
    }
    if revisions.len() > 1 {
        let list: Vec<String> = revisions
            .iter()
            .map(|r| {
                let mark = if r.id == s.id { "*" } else { "" };
                format!("v{} ({}{mark})", r.version, r.id)
            })
            .collect();
        outln!(out, "  revisions {}", list.join(" → "));
    }
    out.push('\n');
    for p in &d.patches {
        outln!(out, "  [{}/{}] {}", p.index, s.total, p.subject);
        outln!(out, "        {}", p.message_id);
        for c in &p.collected {
            let claim = patchgate_gate::Trailer {
                name: c.trailer.name.clone(),
                value: c.trailer.value.clone(),
                from: Some(c.sender.email.clone()).filter(|e| !e.is_empty()),
                patch: Some(p.index),
                in_patch: false,
            };
            let sender = if c.sender.email.is_empty() {
                "an unknown sender".to_string()
            } else {
                c.sender.email.clone()
            };
            let note = if !patchgate_gate::sent_by_named(&claim) {
                format!("; sent by {sender}, not by whom it names: does not count")
            } else if c.sender.email.eq_ignore_ascii_case(&p.author.email) {
                "; by the patch's author: does not count".to_string()
            } else {
                String::new()
            };
            outln!(
                out,
                "        {}: {}  (reply {}{note})",
                c.trailer.name,
                c.trailer.value,
                c.from_message
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_utc_minutes() {
        assert_eq!(super::date(Some(0)), "1970-01-01 00:00 UTC");
        assert_eq!(super::date(Some(1_660_243_930)), "2022-08-11 18:52 UTC");
        assert_eq!(super::date(Some(951_782_400)), "2000-02-29 00:00 UTC");
        assert_eq!(super::date(None), "-");
    }
}
