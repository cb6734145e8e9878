//! TAP 13/14, KTAP and kselftest output to per-test results.
//!
//! Nesting comes in two spellings and both are read: TAP14/KTAP indent a
//! subtest block by four spaces, and the kselftest runner
//! (`tools/testing/selftests/kselftest/runner.sh`) prefixes each test
//! program's own TAP with `# `. A subtest block comes *before* its parent's
//! result line, so finished blocks wait on their level until that line
//! names them. Results are flattened to `parent/child` names.
//!
//! The parser is line-based and iterative (no recursion on input), so no
//! input can exhaust the stack; the line classification lives in
//! `tap_line.rs`.

use crate::tap_line::{classify, split_depth, Directive, Line};
use crate::text::clean_line;
use crate::{make_unique, Parsed, Status, TestResult};

/// More missing tests than this are summarised, not listed one by one: a
/// plan of `1..4000000000` must not allocate four billion results.
const MAX_SYNTHESISED: u64 = 1000;

/// Deeper nesting than this is not real TAP; such lines are ignored so a
/// hostile input cannot build names of quadratic size.
const MAX_DEPTH: usize = 16;

/// Longest YAML diagnostic kept as a test's detail.
const MAX_YAML: usize = 4000;

/// One test point, with the subtests reported before it.
#[derive(Debug)]
struct Node {
    name: String,
    status: Status,
    detail: Option<String>,
    children: Vec<Node>,
}

/// One block of TAP at one nesting level.
#[derive(Debug, Default)]
struct Frame {
    /// `# Subtest: NAME` seen for this block.
    hint: Option<String>,
    plan: Option<u64>,
    points: Vec<Node>,
    /// Highest test number reported so far.
    max_number: u64,
    /// A finished child block whose parent line has not come yet.
    pending: Option<Box<Frame>>,
    /// Something structural was seen, so a new version line starts a new block.
    used: bool,
}

/// Where a YAML diagnostic block is being read.
#[derive(Debug)]
struct Yaml {
    /// The raw line prefix before `---`; content lines must start with it.
    prefix: String,
    depth: usize,
    text: String,
}

#[derive(Debug, Default)]
struct State {
    stack: Vec<Frame>,
    problems: Vec<String>,
    bailed: bool,
}

/// Reads TAP/KTAP/kselftest output. Never fails; see [`Parsed`].
pub fn parse_tap(text: &str) -> Parsed {
    let mut st = State {
        stack: vec![Frame::default()],
        ..State::default()
    };
    let mut yaml: Option<Yaml> = None;
    let mut too_deep = false;

    for raw in text.lines() {
        let line = clean_line(raw);
        if let Some(y) = yaml.as_mut() {
            if line.trim() == "..." {
                st.attach_yaml(yaml.take());
                continue;
            }
            if let Some(rest) = line.strip_prefix(y.prefix.as_str()) {
                if y.text.len() < MAX_YAML {
                    y.text.push_str(rest.trim_end());
                    y.text.push('\n');
                }
                continue;
            }
            st.problems
                .push("a YAML diagnostic block was not closed with `...`".to_string());
            st.attach_yaml(yaml.take());
        }
        let (depth, inner) = split_depth(&line);
        if depth > MAX_DEPTH {
            if !too_deep {
                too_deep = true;
                st.problems.push(format!(
                    "lines nested deeper than {MAX_DEPTH} levels were ignored"
                ));
            }
            continue;
        }
        match classify(inner) {
            Line::YamlStart => {
                let prefix_len = line.len().saturating_sub(inner.trim_start().len());
                let prefix = line.get(..prefix_len).unwrap_or("").to_string();
                yaml = Some(Yaml {
                    prefix,
                    depth,
                    text: String::new(),
                });
            }
            Line::Version => st.version(depth),
            Line::Plan(count) => st.plan(depth, count),
            Line::Subtest(name) => st.subtest(depth, name),
            Line::Point {
                ok,
                number,
                desc,
                directive,
            } => st.point(depth, ok, number, desc, directive),
            Line::BailOut(reason) => {
                let reason = reason.trim();
                st.problems.push(if reason.is_empty() {
                    "the suite bailed out".to_string()
                } else {
                    format!("the suite bailed out: {reason}")
                });
                st.bailed = true;
                break;
            }
            Line::Other => {}
        }
    }
    st.attach_yaml(yaml.take());
    st.finish()
}

impl State {
    fn frame(&mut self, depth: usize) -> &mut Frame {
        self.open_to(depth);
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    /// Opens frames down to `depth` and closes deeper ones, so the top of the
    /// stack is the block at `depth`.
    fn open_to(&mut self, depth: usize) {
        while self.stack.len() > depth + 1 {
            self.close_top();
        }
        while self.stack.len() < depth + 1 {
            self.stack.push(Frame::default());
        }
    }

    /// Closes the innermost block; it waits on its parent for a result line.
    fn close_top(&mut self) {
        let Some(mut frame) = self.stack.pop() else {
            return;
        };
        let level = self.stack.len();
        // A block inside this one that never got its parent line: keep its
        // results here rather than chaining unfinished blocks upwards.
        if let Some(orphan) = frame.pending.take() {
            frame.adopt(*orphan);
        }
        let Some(parent) = self.stack.last_mut() else {
            // The top level is never popped here; put it back untouched.
            self.stack.push(frame);
            return;
        };
        // Two blocks in a row without a parent line: the first one's parent
        // never reported, which is a failure of that parent.
        if let Some(orphan) = parent.pending.take() {
            parent.adopt(*orphan);
            self.problems.push(format!(
                "a subtest block at nesting level {level} had no result line of its own"
            ));
        }
        let problems = check_plan(&mut frame, false);
        self.problems.extend(problems);
        if let Some(parent) = self.stack.last_mut() {
            parent.pending = Some(Box::new(frame));
        }
    }

    fn version(&mut self, depth: usize) {
        // A version line inside a used nested block starts a sibling block
        // (kselftest prints one per test program).
        if depth > 0 && self.stack.len() > depth && self.stack[depth].used {
            self.open_to(depth - 1);
        }
        self.frame(depth);
    }

    fn plan(&mut self, depth: usize, count: u64) {
        let frame = self.frame(depth);
        if frame.plan.is_some() {
            self.problems
                .push(format!("a second plan 1..{count} was ignored"));
            return;
        }
        frame.plan = Some(count);
        frame.used = true;
    }

    fn subtest(&mut self, depth: usize, name: &str) {
        if self.stack.len() > depth && self.stack[depth].used && depth > 0 {
            self.open_to(depth - 1);
        }
        let frame = self.frame(depth);
        frame.hint = Some(name.trim().to_string());
    }

    fn point(
        &mut self,
        depth: usize,
        ok: bool,
        number: Option<u64>,
        desc: &str,
        directive: Directive,
    ) {
        self.open_to(depth);
        let Some(frame) = self.stack.last_mut() else {
            return;
        };
        frame.used = true;
        let expected = frame.max_number.saturating_add(1);
        let number = number.unwrap_or(expected);
        let mut problem = None;
        if number != expected {
            problem = Some(format!(
                "test {number} reported where test {expected} was expected"
            ));
        }
        frame.max_number = frame.max_number.max(number);
        let children = frame.pending.take();
        let name = match (
            desc.is_empty(),
            children.as_ref().and_then(|c| c.hint.clone()),
        ) {
            (false, _) => desc.replace("\\#", "#"),
            (true, Some(hint)) => hint,
            (true, None) => format!("test {number}"),
        };
        let (status, detail) = directive.status(ok);
        frame.points.push(Node {
            name,
            status,
            detail,
            children: children.map(|c| c.points).unwrap_or_default(),
        });
        self.problems.extend(problem);
    }

    /// Gives a finished YAML block to the last test point at its level.
    fn attach_yaml(&mut self, yaml: Option<Yaml>) {
        let Some(yaml) = yaml else { return };
        let text = yaml.text.trim_end();
        if text.is_empty() {
            return;
        }
        let Some(node) = self
            .stack
            .get_mut(yaml.depth)
            .and_then(|f| f.points.last_mut())
        else {
            return;
        };
        node.detail = Some(match node.detail.take() {
            Some(d) => format!("{d}\n{text}"),
            None => text.to_string(),
        });
    }

    fn finish(mut self) -> Parsed {
        while self.stack.len() > 1 {
            self.close_top();
        }
        let Some(mut top) = self.stack.pop() else {
            return Parsed::default();
        };
        if let Some(orphan) = top.pending.take() {
            top.adopt(*orphan);
        }
        let mut complete = !self.bailed;
        if top.plan.is_none() {
            complete = false;
            if top.points.is_empty() && !self.bailed {
                self.problems
                    .push("no TAP output: no plan and no test results".to_string());
            } else if !self.bailed {
                self.problems.push(
                    "no plan line (1..N): the run may have stopped before its end".to_string(),
                );
            }
        }
        let plan_problems = check_plan(&mut top, true);
        if !plan_problems.is_empty() {
            complete = false;
        }
        self.problems.extend(plan_problems);

        let mut tests = Vec::new();
        flatten(top.points, "", &mut tests);
        make_unique(&mut tests);
        Parsed {
            tests,
            complete,
            problems: self.problems,
        }
    }
}

/// A block whose parent line never came, reported as the failing parent.
impl Frame {
    /// Keep a subtest block whose parent line never came as a failing test
    /// numbered after the highest one seen (saturating: the numbers come
    /// from the input).
    fn adopt(&mut self, orphan: Frame) {
        self.max_number = self.max_number.saturating_add(1);
        self.points.push(orphan_node(orphan, self.max_number));
    }
}

fn orphan_node(block: Frame, number: u64) -> Node {
    let name = block.hint.unwrap_or_else(|| format!("test {number}"));
    Node {
        name,
        status: Status::Fail,
        detail: Some("no result line: the run stopped inside this test".to_string()),
        children: block.points,
    }
}

/// Compares what a block reported with its plan; adds the missing tests as
/// failures so a crash mid-plan is visible test by test. Returns problems.
fn check_plan(frame: &mut Frame, top: bool) -> Vec<String> {
    let Some(plan) = frame.plan else {
        return Vec::new();
    };
    let reported = frame.points.len() as u64;
    let mut problems = Vec::new();
    let what = if top { "the plan" } else { "a subtest plan" };
    if frame.max_number < plan {
        let first = frame.max_number + 1;
        let missing = plan - frame.max_number;
        problems.push(if missing == 1 {
            format!("{what} 1..{plan} promised test {first}, which never reported")
        } else {
            format!("{what} 1..{plan} promised tests {first}..{plan}, which never reported")
        });
        for n in first..=plan.min(frame.max_number.saturating_add(MAX_SYNTHESISED)) {
            frame.points.push(Node {
                name: format!("test {n}"),
                status: Status::Fail,
                detail: Some("never reported: the run stopped before it".to_string()),
                children: Vec::new(),
            });
        }
        frame.max_number = plan;
    } else if reported > plan {
        problems.push(format!(
            "{what} 1..{plan} announced fewer tests than the {reported} that reported"
        ));
    }
    problems
}

/// Depth-first, parent before its children, with `parent/child` names.
/// Iterative so a deeply nested input cannot exhaust the stack.
fn flatten(nodes: Vec<Node>, prefix: &str, out: &mut Vec<TestResult>) {
    let mut work: Vec<(String, Node)> = nodes
        .into_iter()
        .rev()
        .map(|n| (prefix.to_string(), n))
        .collect();
    while let Some((prefix, node)) = work.pop() {
        let name = if prefix.is_empty() {
            node.name
        } else {
            format!("{prefix}/{}", node.name)
        };
        for child in node.children.into_iter().rev() {
            work.push((name.clone(), child));
        }
        out.push(TestResult {
            name,
            status: node.status,
            detail: node.detail,
        });
    }
}
