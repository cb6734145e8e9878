//! Branch policies: the `requires` strings of a branch parsed into typed
//! clauses, with errors that point at the word that is wrong.
//!
//! The language is small on purpose but is a real grammar (tokens, then a
//! recursive-descent-free parser over them), so it can grow — soak time,
//! per-path reviewers — without turning into string matching:
//!
//! ```text
//! clause := "includes-test" | "signed-off"
//!         | ("reviews" | "acks") ">=" NUMBER [ "from" list ]
//!         | SUITE-NAME                      (a suite configured for the tree)
//! list   := "[" item { "," item } "]" | item { "," item }
//! item   := WORD | "quoted text"            (an email address or a name)
//! ```

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Serialize;
use std::fmt;

/// The accepted forms, named in every error about an unknown word.
const FORMS: &str = "a suite name, \"reviews >= N\", \"reviews >= N from [a@example.org, ...]\", \
                     \"acks >= N\", \"includes-test\" or \"signed-off\"";

/// One requirement of a branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Clause {
    /// The suite runs to its end with no regression and no failing new test.
    Suite { name: String },
    /// Every patch has `Reviewed-by:` from at least `min` distinct people,
    /// counted only from the listed people when `from` is given.
    Reviews { min: u32, from: Option<Vec<String>> },
    /// As `Reviews`, for `Acked-by:`.
    Acks { min: u32, from: Option<Vec<String>> },
    /// A series that changes code also changes a test.
    IncludesTest,
    /// Every patch carries a `Signed-off-by:`.
    SignedOff,
}

impl fmt::Display for Clause {
    /// The canonical spelling; also the rule's name in the `test` JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counted =
            |f: &mut fmt::Formatter<'_>, word: &str, min: u32, from: &Option<Vec<String>>| {
                write!(f, "{word} >= {min}")?;
                if let Some(people) = from {
                    let quoted: Vec<String> = people
                        .iter()
                        .map(|p| {
                            // Quoted whenever the tokenizer would not read it
                            // as one word; quotes take no escapes.
                            if !p.is_empty() && p.chars().all(is_word_char) {
                                p.clone()
                            } else {
                                format!("\"{p}\"")
                            }
                        })
                        .collect();
                    write!(f, " from [{}]", quoted.join(", "))?;
                }
                Ok(())
            };
        match self {
            Clause::Suite { name } => f.write_str(name),
            Clause::Reviews { min, from } => counted(f, "reviews", *min, from),
            Clause::Acks { min, from } => counted(f, "acks", *min, from),
            Clause::IncludesTest => f.write_str("includes-test"),
            Clause::SignedOff => f.write_str("signed-off"),
        }
    }
}

/// Where in one `requires` string parsing failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseError {
    /// 1-based character column in the clause text.
    pub column: usize,
    pub message: String,
}

/// A policy error with everything needed to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("branch {branch:?}: {location}: {message}")]
pub struct PolicyError {
    pub branch: String,
    /// `requires[2] "reviews >= x", column 12`, or the rule table concerned.
    pub location: String,
    pub message: String,
}

/// Every error found in a policy, so one `policy check` shows them all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct PolicyErrors(pub Vec<PolicyError>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Number(u32),
    Ge,
    Comma,
    Open,
    Close,
}

fn describe(t: Option<&(usize, Tok)>) -> String {
    match t.map(|(_, t)| t) {
        None => "the end".to_string(),
        Some(Tok::Word(w)) => format!("{w:?}"),
        Some(Tok::Quoted(q)) => format!("\"{q}\""),
        Some(Tok::Number(n)) => n.to_string(),
        Some(Tok::Ge) => "\">=\"".to_string(),
        Some(Tok::Comma) => "\",\"".to_string(),
        Some(Tok::Open) => "\"[\"".to_string(),
        Some(Tok::Close) => "\"]\"".to_string(),
    }
}

fn tokenize(text: &str) -> Result<Vec<(usize, Tok)>, ClauseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |column: usize, message: String| ClauseError { column, message };
    while i < chars.len() {
        let col = i + 1;
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            ',' | '[' | ']' => {
                let tok = match c {
                    ',' => Tok::Comma,
                    '[' => Tok::Open,
                    _ => Tok::Close,
                };
                out.push((col, tok));
                i += 1;
            }
            '>' if chars.get(i + 1) == Some(&'=') => {
                out.push((col, Tok::Ge));
                i += 2;
            }
            '"' => {
                let end = chars[i + 1..].iter().position(|&c| c == '"');
                let Some(len) = end else {
                    return Err(err(col, "this quote is never closed".to_string()));
                };
                out.push((col, Tok::Quoted(chars[i + 1..i + 1 + len].iter().collect())));
                i += len + 2;
            }
            c if is_word_char(c) => {
                let len = chars[i..].iter().take_while(|&&c| is_word_char(c)).count();
                let word: String = chars[i..i + len].iter().collect();
                let tok = if word.chars().all(|c| c.is_ascii_digit()) {
                    match word.parse() {
                        Ok(n) => Tok::Number(n),
                        Err(_) => return Err(err(col, format!("{word} is too large a number"))),
                    }
                } else {
                    Tok::Word(word)
                };
                out.push((col, tok));
                i += len;
            }
            other => {
                return Err(err(
                    col,
                    format!("unexpected {other:?}; the accepted forms are {FORMS}"),
                ))
            }
        }
    }
    Ok(out)
}

fn is_word_char(c: char) -> bool {
    // Enough for suite names, keywords and bare email addresses; a name with
    // spaces or angle brackets is written in quotes.
    c.is_alphanumeric() || "-_.@+/:".contains(c)
}

/// Parses one `requires` string. `suites` are the suite names configured for
/// the tree: a bare word must be one of them or a keyword.
pub fn parse_clause(text: &str, suites: &[String]) -> Result<Clause, ClauseError> {
    let toks = tokenize(text)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        len: text.chars().count(),
    };
    let clause = p.clause(suites)?;
    if let Some((col, _)) = p.peek() {
        return Err(ClauseError {
            column: *col,
            message: format!("unexpected {} after \"{clause}\"", describe(p.peek())),
        });
    }
    Ok(clause)
}

struct Parser<'a> {
    toks: &'a [(usize, Tok)],
    pos: usize,
    /// Text length, for the column of "the end".
    len: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&(usize, Tok)> {
        self.toks.get(self.pos)
    }

    fn col(&self) -> usize {
        self.peek().map(|(c, _)| *c).unwrap_or(self.len + 1)
    }

    fn fail<T>(&self, message: String) -> Result<T, ClauseError> {
        Err(ClauseError {
            column: self.col(),
            message,
        })
    }

    fn clause(&mut self, suites: &[String]) -> Result<Clause, ClauseError> {
        let Some((_, Tok::Word(word))) = self.peek().cloned() else {
            return self.fail(format!("expected {FORMS}, found {}", describe(self.peek())));
        };
        self.pos += 1;
        match word.as_str() {
            "includes-test" => Ok(Clause::IncludesTest),
            "signed-off" => Ok(Clause::SignedOff),
            "reviews" | "acks" => {
                let (min, from) = self.counted(&word)?;
                Ok(if word == "reviews" {
                    Clause::Reviews { min, from }
                } else {
                    Clause::Acks { min, from }
                })
            }
            _ if suites.contains(&word) => Ok(Clause::Suite { name: word }),
            _ => {
                self.pos -= 1;
                let known = if suites.is_empty() {
                    "no suites are configured".to_string()
                } else {
                    format!("configured suites: {}", suites.join(", "))
                };
                self.fail(format!(
                    "unknown requirement {word:?}: expected {FORMS} ({known})"
                ))
            }
        }
    }

    fn counted(&mut self, word: &str) -> Result<(u32, Option<Vec<String>>), ClauseError> {
        if self.peek().map(|(_, t)| t) != Some(&Tok::Ge) {
            return self.fail(format!(
                "expected \">=\" after {word:?}, found {}",
                describe(self.peek())
            ));
        }
        self.pos += 1;
        let Some((_, Tok::Number(min))) = self.peek().cloned() else {
            return self.fail(format!(
                "expected a number after \"{word} >=\", found {}",
                describe(self.peek())
            ));
        };
        self.pos += 1;
        match self.peek() {
            Some((_, Tok::Word(w))) if w == "from" => {
                self.pos += 1;
                Ok((min, Some(self.list()?)))
            }
            _ => Ok((min, None)),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, ClauseError> {
        let bracketed = self.peek().map(|(_, t)| t) == Some(&Tok::Open);
        if bracketed {
            self.pos += 1;
        }
        let mut items = Vec::new();
        loop {
            match self.peek().cloned() {
                Some((_, Tok::Word(w) | Tok::Quoted(w))) if !w.is_empty() => {
                    items.push(w);
                    self.pos += 1;
                }
                _ => {
                    return self.fail(format!(
                        "expected an email address or a name, found {}",
                        describe(self.peek())
                    ))
                }
            }
            match self.peek().map(|(_, t)| t) {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::Close) if bracketed => {
                    self.pos += 1;
                    return Ok(items);
                }
                None if !bracketed => return Ok(items),
                _ if bracketed => {
                    return self.fail(format!(
                        "expected \",\" or \"]\", found {}",
                        describe(self.peek())
                    ))
                }
                _ => return self.fail(format!("expected \",\", found {}", describe(self.peek()))),
            }
        }
    }
}

/// The `includes-test` rule's configuration, compiled.
#[derive(Debug, Clone)]
pub struct IncludesTest {
    pub code: Vec<String>,
    pub tests: Vec<String>,
    code_set: GlobSet,
    tests_set: GlobSet,
}

impl IncludesTest {
    /// Compiles the `code` and `tests` glob lists; the error names the bad glob.
    pub fn new(code: &[String], tests: &[String]) -> Result<Self, String> {
        let build = |key: &str, globs: &[String]| -> Result<GlobSet, String> {
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(Glob::new(g).map_err(|e| format!("{key} glob {g:?} is not valid: {e}"))?);
            }
            b.build().map_err(|e| format!("{key} globs: {e}"))
        };
        if code.is_empty() || tests.is_empty() {
            return Err("both `code` and `tests` need at least one glob".to_string());
        }
        Ok(IncludesTest {
            code: code.to_vec(),
            tests: tests.to_vec(),
            code_set: build("code", code)?,
            tests_set: build("tests", tests)?,
        })
    }

    pub fn is_code(&self, path: &str) -> bool {
        self.code_set.is_match(path)
    }

    pub fn is_test(&self, path: &str) -> bool {
        self.tests_set.is_match(path)
    }
}

impl PartialEq for IncludesTest {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.tests == other.tests
    }
}

/// The rules of one branch.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchPolicy {
    pub name: String,
    /// The branch it is fed from (`queue` from `master`).
    pub from: Option<String>,
    pub clauses: Vec<Clause>,
    /// Set whenever `clauses` holds `IncludesTest`.
    pub includes_test: Option<IncludesTest>,
}

/// One branch as configured, before parsing.
#[derive(Debug, Clone, Copy)]
pub struct BranchConfig<'a> {
    pub name: &'a str,
    pub from: Option<&'a str>,
    pub requires: &'a [String],
}

/// The rules of every branch of one tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub tree: String,
    pub branches: Vec<BranchPolicy>,
}

impl Policy {
    /// Parses every branch's `requires`, reporting all errors at once.
    /// `includes_test` is the `[tree.T.rule.includes-test]` table's
    /// `(code, tests)` globs, if the tree has one.
    pub fn new(
        tree: &str,
        suites: &[String],
        branches: &[BranchConfig<'_>],
        includes_test: Option<(&[String], &[String])>,
    ) -> Result<Policy, PolicyErrors> {
        let mut errors = Vec::new();
        let compiled = includes_test.map(|(code, tests)| IncludesTest::new(code, tests));
        if let Some(Err(message)) = &compiled {
            errors.push(PolicyError {
                branch: String::new(),
                location: format!("[tree.{tree}.rule.includes-test]"),
                message: message.clone(),
            });
        }
        let rule = compiled.and_then(Result::ok);
        let mut out = Vec::new();
        for b in branches {
            let mut clauses = Vec::new();
            for (i, text) in b.requires.iter().enumerate() {
                match parse_clause(text, suites) {
                    Ok(c) => clauses.push(c),
                    Err(e) => errors.push(PolicyError {
                        branch: b.name.to_string(),
                        location: format!("requires[{i}] {text:?}, column {}", e.column),
                        message: e.message,
                    }),
                }
            }
            let wants_rule = clauses.contains(&Clause::IncludesTest);
            if wants_rule && includes_test.is_none() {
                errors.push(PolicyError {
                    branch: b.name.to_string(),
                    location: "requires".to_string(),
                    message: format!(
                        "\"includes-test\" needs a [tree.{tree}.rule.includes-test] table \
                         with `code` and `tests` glob lists"
                    ),
                });
            }
            out.push(BranchPolicy {
                name: b.name.to_string(),
                from: b.from.map(str::to_string),
                clauses,
                includes_test: if wants_rule { rule.clone() } else { None },
            });
        }
        if errors.is_empty() {
            Ok(Policy {
                tree: tree.to_string(),
                branches: out,
            })
        } else {
            Err(PolicyErrors(errors))
        }
    }

    pub fn branch(&self, name: &str) -> Option<&BranchPolicy> {
        self.branches.iter().find(|b| b.name == name)
    }
}

impl BranchPolicy {
    /// The policy of a tree with no branch configured: all its suites.
    pub fn all_suites(name: &str, suites: &[String]) -> BranchPolicy {
        BranchPolicy {
            name: name.to_string(),
            from: None,
            clauses: suites
                .iter()
                .map(|s| Clause::Suite { name: s.clone() })
                .collect(),
            includes_test: None,
        }
    }
}
