//! A policy as Markdown, for `policy show`: one section per branch, each
//! clause as a sentence a submitter understands without knowing the config.

use crate::policy::{BranchPolicy, Clause, IncludesTest, Policy};
use std::fmt::Write;

/// Renders every branch of the policy.
pub fn render_markdown(policy: &Policy) -> String {
    let mut out = format!("# Rules of the `{}` tree\n", policy.tree);
    if policy.branches.is_empty() {
        out.push_str("\nNo branch is configured: every series must pass all the tree's suites.\n");
    }
    for b in &policy.branches {
        out.push('\n');
        out.push_str(&render_branch(b));
    }
    out
}

/// Renders one branch's section.
pub fn render_branch(branch: &BranchPolicy) -> String {
    let mut out = format!("## Branch `{}`\n\n", branch.name);
    match &branch.from {
        Some(from) => {
            let _ = writeln!(
                out,
                "A series enters `{}` (fed from `{from}`) only when:\n",
                branch.name
            );
        }
        None => {
            let _ = writeln!(out, "A series enters `{}` only when:\n", branch.name);
        }
    }
    let mut items = vec!["it applies to the branch's base without conflicts".to_string()];
    items.extend(
        branch
            .clauses
            .iter()
            .map(|c| sentence(c, branch.includes_test.as_ref())),
    );
    let last = items.len() - 1;
    for (i, item) in items.iter().enumerate() {
        let end = if i == last { '.' } else { ';' };
        let _ = writeln!(out, "- {item}{end}");
    }
    out.push_str(
        "\nA test that already fails on the base commit, or that is flaky, never counts \
         against a series.\n",
    );
    let _ = writeln!(
        out,
        "\nTo see what the gate will say before posting: `patchgate ingest` the series' mails \
         (`git format-patch` output), then `patchgate test SERIES --branch {}`.",
        branch.name
    );
    out
}

fn people(from: &Option<Vec<String>>) -> String {
    match from {
        Some(list) => format!(" from one of: {}", list.join(", ")),
        None => String::new(),
    }
}

fn times(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn sentence(clause: &Clause, rule: Option<&IncludesTest>) -> String {
    match clause {
        Clause::Suite { name } => format!(
            "the `{name}` suite runs to its end (no error, timeout or limit) with no test that \
             passed on the base failing on every retry, and no failing test the series adds"
        ),
        Clause::Reviews { min, from } => format!(
            "every patch has a `Reviewed-by:` from at least {}{}, each given in a mail that \
             reviewer sent and none by the patch's author",
            times(*min, "person", "different people"),
            people(from)
        ),
        Clause::Acks { min, from } => format!(
            "every patch has an `Acked-by:` from at least {}{}, each given in a mail that \
             person sent and none by the patch's author",
            times(*min, "person", "different people"),
            people(from)
        ),
        Clause::IncludesTest => match rule {
            Some(r) => format!(
                "a series that changes code ({}) also adds or changes a test ({}); a series \
                 that touches no code, such as documentation only, is exempt",
                quoted(&r.code),
                quoted(&r.tests)
            ),
            None => "a series that changes code also adds or changes a test".to_string(),
        },
        Clause::SignedOff => {
            "every patch carries its author's own `Signed-off-by:` line".to_string()
        }
    }
}

fn quoted(globs: &[String]) -> String {
    globs
        .iter()
        .map(|g| format!("`{g}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
