//! `patchgate.toml`: its shape, defaults and validation.
//!
//! An empty file is a valid configuration (ingest and browse only). Every
//! error names the file, the key and, where toml knows it, the line; and says
//! what the accepted values are. Maps keep the order of the file, because
//! order means something: a tree's first branch is the one `test` judges
//! against by default, and bases are tried in order.

use indexmap::IndexMap;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// The parsed configuration, with paths resolved against the file's folder.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, for messages.
    pub file: PathBuf,
    /// Folder of the file: relative paths are resolved against it.
    pub root: PathBuf,
    /// Where the SQLite database, outbox, worktrees and logs live.
    pub state_dir: PathBuf,
    pub database: Database,
    pub sources: Vec<Source>,
    pub trees: IndexMap<String, Tree>,
}

/// Which store backs the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// `state_dir/patchgate.sqlite`.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

/// One place mail is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
}

/// A git repository and the branches patchgate guards.
#[derive(Debug, Clone)]
pub struct Tree {
    pub name: String,
    /// Path or URL of the upstream repository.
    pub repo: String,
    /// Branches to apply a series on when it names no `base-commit:`, in order.
    pub bases: Vec<String>,
    /// Subject tag routing series here; "" = the default tree.
    pub tag: String,
    pub suites: IndexMap<String, Suite>,
    pub branches: IndexMap<String, Branch>,
    pub rules: IndexMap<String, RuleConfig>,
}

pub use patchgate_results::Format;

/// A named test command.
#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub run: String,
    pub timeout: Duration,
    pub format: Format,
    /// Reruns of a failing suite that tell a flake from a regression.
    pub retries: u32,
    pub env: IndexMap<String, String>,
    /// Folder inside the worktree to run in.
    pub workdir: String,
    pub memory: u64,
    pub processes: u32,
    pub output: u64,
    /// Bytes the suite may write into the worktree.
    pub disk: u64,
    /// Size of the private in-memory /tmp.
    pub tmp: u64,
}

impl Tree {
    /// The tree's branch rules, compiled.
    pub fn policy(&self) -> Result<patchgate_gate::Policy, patchgate_gate::PolicyErrors> {
        let suites: Vec<String> = self.suites.keys().cloned().collect();
        let configs: Vec<patchgate_gate::BranchConfig<'_>> = self
            .branches
            .values()
            .map(|b| patchgate_gate::BranchConfig {
                name: &b.name,
                from: b.from.as_deref(),
                requires: &b.requires,
            })
            .collect();
        let includes = self
            .rules
            .get("includes-test")
            .map(|r| (r.code.as_slice(), r.tests.as_slice()));
        patchgate_gate::Policy::new(&self.name, &suites, &configs, includes)
    }
}

/// One guarded branch and its policy.
#[derive(Debug, Clone)]
pub struct Branch {
    pub name: String,
    pub from: Option<String>,
    /// Clauses as written; the gate crate parses them.
    pub requires: Vec<String>,
}

/// Settings of a named rule, e.g. `includes-test`.
#[derive(Debug, Clone, Default)]
pub struct RuleConfig {
    pub code: Vec<String>,
    pub tests: Vec<String>,
}

/// What went wrong reading a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {error}; create it with `patchgate init` or pass --config FILE")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}{}: {key}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        /// 1-based line of the value, when the key is in the file.
        line: Option<usize>,
        key: String,
        message: String,
    },
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database: Option<String>,
    state_dir: Option<String>,
    #[serde(default)]
    source: Vec<RawSource>,
    #[serde(default)]
    tree: IndexMap<String, RawTree>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTree {
    repo: String,
    #[serde(default)]
    bases: Vec<String>,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    suite: IndexMap<String, RawSuite>,
    #[serde(default)]
    branch: IndexMap<String, RawBranch>,
    #[serde(default)]
    rule: IndexMap<String, RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    run: Spanned<String>,
    timeout: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    retries: Option<Spanned<u32>>,
    #[serde(default)]
    env: IndexMap<String, String>,
    workdir: Option<Spanned<String>>,
    memory: Option<Spanned<String>>,
    processes: Option<Spanned<u32>>,
    output: Option<Spanned<String>>,
    disk: Option<Spanned<String>>,
    tmp: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBranch {
    from: Option<String>,
    #[serde(default)]
    requires: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    code: Vec<String>,
    #[serde(default)]
    tests: Vec<String>,
}

/// Default limits for a suite that names none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
pub const DEFAULT_MEMORY: u64 = 2 << 30;
pub const DEFAULT_PROCESSES: u32 = 512;
pub const DEFAULT_OUTPUT: u64 = 16 << 20;
pub const DEFAULT_DISK: u64 = 20 << 30;
pub const DEFAULT_TMP: u64 = 1 << 30;
/// Reruns of a suite at most: each costs a whole run of it, so more than
/// this is a slip of the keyboard, not a policy.
pub const MAX_RETRIES: u32 = 20;

impl Config {
    /// Read and validate a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Config::parse(&text, path)
    }

    /// Validate configuration text as if read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let root = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let invalid = |key: String, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: None,
            key,
            message,
        };
        // The line of a value, from its byte offset.
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let invalid_at =
            |key: String, span: std::ops::Range<usize>, message: String| ConfigError::Invalid {
                path: path.to_path_buf(),
                line: Some(line_of(span.start)),
                key,
                message,
            };
        let state_dir = root.join(raw.state_dir.as_deref().unwrap_or(".patchgate"));
        let database = match raw.database.as_deref() {
            None | Some("sqlite") => Database::Sqlite(state_dir.join("patchgate.sqlite")),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Database::Postgres(url.to_string())
            }
            Some(other) => {
                return Err(invalid(
                    "database".into(),
                    format!("`{other}` is not a database; write \"sqlite\" or a postgres:// URL"),
                ))
            }
        };
        let sources = raw
            .source
            .into_iter()
            .map(|s| Source {
                path: root.join(s.path),
            })
            .collect();
        let mut trees = IndexMap::new();
        let mut tags: IndexMap<String, String> = IndexMap::new();
        for (name, t) in raw.tree {
            if let Some(other) = tags.insert(t.tag.clone(), name.clone()) {
                return Err(invalid(
                    format!("tree.{name}.tag"),
                    format!(
                        "tag \"{}\" is already routed to tree `{other}`; give each tree its own tag",
                        t.tag
                    ),
                ));
            }
            let mut suites = IndexMap::new();
            for (sname, s) in t.suite {
                let key = format!("tree.{name}.suite.{sname}");
                suites.insert(
                    sname.clone(),
                    suite(&key, sname, s).map_err(|(k, span, m)| invalid_at(k, span, m))?,
                );
            }
            let mut rules = IndexMap::new();
            for (rname, r) in t.rule {
                if rname != "includes-test" {
                    return Err(invalid(
                        format!("tree.{name}.rule.{rname}"),
                        "unknown rule; the configurable rule is `includes-test`".into(),
                    ));
                }
                rules.insert(
                    rname,
                    RuleConfig {
                        code: r.code,
                        tests: r.tests,
                    },
                );
            }
            // Every rule is compiled now, so a misspelt suite ("biuld") or
            // a malformed clause stops the configuration from loading
            // instead of failing a job later.
            let suite_names: Vec<String> = suites.keys().cloned().collect();
            let mut branches = IndexMap::new();
            for (bname, b) in t.branch {
                for (i, clause) in b.requires.iter().enumerate() {
                    if let Err(e) = patchgate_gate::parse_clause(clause.get_ref(), &suite_names) {
                        return Err(invalid_at(
                            format!("tree.{name}.branch.{bname}.requires[{i}]"),
                            clause.span(),
                            format!("{:?}, column {}: {}", clause.get_ref(), e.column, e.message),
                        ));
                    }
                }
                branches.insert(
                    bname.clone(),
                    Branch {
                        name: bname,
                        from: b.from,
                        requires: b.requires.into_iter().map(Spanned::into_inner).collect(),
                    },
                );
            }
            let repo = if t.repo.contains("://") || t.repo.contains('@') {
                t.repo
            } else {
                root.join(&t.repo).to_string_lossy().into_owned()
            };
            let bases = if t.bases.is_empty() {
                vec!["master".to_string()]
            } else {
                t.bases
            };
            let tree = Tree {
                name: name.clone(),
                repo,
                bases,
                tag: t.tag,
                suites,
                branches,
                rules,
            };
            if let Err(errors) = tree.policy() {
                return Err(invalid(format!("tree.{name}"), errors.to_string()));
            }
            trees.insert(name, tree);
        }
        Ok(Config {
            file: path.to_path_buf(),
            root,
            state_dir,
            database,
            sources,
            trees,
        })
    }

    /// The tree a series with these subject tags goes to: the first tree whose
    /// tag is among them (case-insensitive), else the tree with tag "".
    pub fn route<'a>(&'a self, tags: &[String]) -> Option<&'a Tree> {
        self.trees
            .values()
            .find(|t| !t.tag.is_empty() && tags.iter().any(|x| x.eq_ignore_ascii_case(&t.tag)))
            .or_else(|| self.trees.values().find(|t| t.tag.is_empty()))
    }
}

type Bad = (String, std::ops::Range<usize>, String);

fn suite(key: &str, name: String, s: RawSuite) -> Result<Suite, Bad> {
    let bad = |field: &str, span: std::ops::Range<usize>, message: String| {
        (format!("{key}.{field}"), span, message)
    };
    if s.run.get_ref().trim().is_empty() {
        return Err(bad(
            "run",
            s.run.span(),
            "the command is empty; write the shell command that runs the suite (\"make check\")"
                .into(),
        ));
    }
    let timeout = match &s.timeout {
        None => DEFAULT_TIMEOUT,
        Some(t) => {
            let d = humantime::parse_duration(t.get_ref()).map_err(|e| {
                bad(
                    "timeout",
                    t.span(),
                    format!(
                        "`{}`: {e}; write a duration such as \"90s\" or \"5m\"",
                        t.get_ref()
                    ),
                )
            })?;
            if d.is_zero() {
                return Err(bad(
                    "timeout",
                    t.span(),
                    "a suite needs some time to run; write a duration above zero (\"10m\")".into(),
                ));
            }
            d
        }
    };
    let format: Format = match &s.format {
        None => Format::ExitCode,
        Some(f) => f
            .get_ref()
            .parse()
            .map_err(|e| bad("format", f.span(), format!("{e}")))?,
    };
    let retries = match &s.retries {
        None => 0,
        Some(r) if *r.get_ref() > MAX_RETRIES => {
            return Err(bad(
                "retries",
                r.span(),
                format!(
                "{} reruns would run the suite {} times on a failure; write at most {MAX_RETRIES}",
                r.get_ref(),
                u64::from(*r.get_ref()) + 1
            ),
            ))
        }
        Some(r) => *r.get_ref(),
    };
    let workdir = match &s.workdir {
        None => ".".to_string(),
        Some(w) => {
            let p = Path::new(w.get_ref());
            if p.is_absolute()
                || p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(bad(
                    "workdir",
                    w.span(),
                    format!(
                        "`{}` must be a folder inside the tree, relative to its top, without `..`",
                        w.get_ref()
                    ),
                ));
            }
            w.get_ref().clone()
        }
    };
    let size = |field: &str, v: &Option<Spanned<String>>, default: u64| -> Result<u64, Bad> {
        match v {
            None => Ok(default),
            Some(v) => match parse_size(v.get_ref()) {
                Some(0) => Err(bad(
                    field,
                    v.span(),
                    "a limit of zero lets nothing run; write a size above zero (\"512M\")".into(),
                )),
                Some(n) => Ok(n),
                None => Err(bad(
                    field,
                    v.span(),
                    format!(
                        "`{}` is not a size; write bytes or a number with K, M or G (\"512M\")",
                        v.get_ref()
                    ),
                )),
            },
        }
    };
    let processes = match &s.processes {
        None => DEFAULT_PROCESSES,
        Some(p) if *p.get_ref() == 0 => {
            return Err(bad(
                "processes",
                p.span(),
                "a suite needs at least its shell; write 1 or more".into(),
            ))
        }
        Some(p) => *p.get_ref(),
    };
    Ok(Suite {
        name,
        run: s.run.into_inner(),
        timeout,
        format,
        retries,
        env: s.env,
        workdir,
        memory: size("memory", &s.memory, DEFAULT_MEMORY)?,
        processes,
        output: size("output", &s.output, DEFAULT_OUTPUT)?,
        disk: size("disk", &s.disk, DEFAULT_DISK)?,
        tmp: size("tmp", &s.tmp, DEFAULT_TMP)?,
    })
}

/// `"512M"` → bytes. Accepts a plain number or one suffixed K, M, G (powers of 1024).
pub fn parse_size(v: &str) -> Option<u64> {
    let v = v.trim();
    let (num, mult) = match v.char_indices().last()? {
        (i, 'K' | 'k') => (&v[..i], 1u64 << 10),
        (i, 'M' | 'm') => (&v[..i], 1 << 20),
        (i, 'G' | 'g') => (&v[..i], 1 << 30),
        _ => (v, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/srv/pg/patchgate.toml"))
    }

    #[test]
    fn empty_file_is_a_valid_configuration() {
        let c = parse("").expect("empty config is valid");
        assert!(c.trees.is_empty() && c.sources.is_empty());
        assert_eq!(
            c.database,
            Database::Sqlite(PathBuf::from("/srv/pg/.patchgate/patchgate.sqlite"))
        );
    }

    #[test]
    fn design_example_parses_in_file_order() {
        let c = parse(
            r#"
database = "sqlite"
[[source]]
path = "lists/kvm.mbox"
[tree.calc]
repo = "calc.git"
bases = ["master"]
tag = ""
[tree.calc.suite.build]
run = "make"
timeout = "5m"
format = "exit-code"
[tree.calc.suite.unit]
run = "make check"
format = "tap"
retries = 2
[tree.calc.branch.queue]
from = "master"
requires = ["build", "unit", "reviews >= 1", "includes-test"]
[tree.calc.branch.next]
from = "queue"
requires = ["build"]
[tree.calc.rule.includes-test]
code = ["src/**"]
tests = ["tests/**"]
"#,
        )
        .expect("valid");
        let t = &c.trees["calc"];
        assert_eq!(t.repo, "/srv/pg/calc.git");
        assert_eq!(t.suites["build"].timeout, Duration::from_secs(300));
        assert_eq!(t.suites["unit"].format, Format::Tap);
        assert_eq!(t.suites["unit"].retries, 2);
        let names: Vec<_> = t.branches.keys().cloned().collect();
        assert_eq!(names, ["queue", "next"]);
        assert_eq!(t.rules["includes-test"].tests, ["tests/**"]);
        assert_eq!(c.sources[0].path, PathBuf::from("/srv/pg/lists/kvm.mbox"));
    }

    #[test]
    fn unknown_format_names_the_key_and_the_choices() {
        let e =
            parse("[tree.a]\nrepo = \"a\"\n[tree.a.suite.x]\nrun = \"true\"\nformat = \"tapp\"\n")
                .expect_err("bad format");
        let s = e.to_string();
        assert!(s.contains("tree.a.suite.x.format"), "{s}");
        assert!(
            s.contains("exit-code, tap, kvm-unit-tests, junit:PATH"),
            "{s}"
        );
        assert!(s.contains("\"tapp\""), "{s}");
    }

    #[test]
    fn misspelt_key_is_a_syntax_error_with_its_line() {
        let e = parse("[tree.a]\nrepo = \"a\"\nbase = [\"master\"]\n").expect_err("unknown key");
        let s = e.to_string();
        assert!(s.contains("line 3") && s.contains("base"), "{s}");
    }

    #[test]
    fn routing_prefers_a_tag_and_falls_back_to_the_default_tree() {
        let c = parse(
            "[tree.kernel]\nrepo = \"k\"\n[tree.kut]\nrepo = \"u\"\ntag = \"kvm-unit-tests\"\n",
        )
        .expect("valid");
        let tags = vec!["KVM-unit-tests".to_string()];
        assert_eq!(c.route(&tags).map(|t| t.name.as_str()), Some("kut"));
        assert_eq!(c.route(&[]).map(|t| t.name.as_str()), Some("kernel"));
    }

    #[test]
    fn sizes_and_durations_are_checked() {
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("2g"), Some(2 << 30));
        assert_eq!(parse_size("lots"), None);
        let e = parse("[tree.a]\nrepo=\"a\"\n[tree.a.suite.x]\nrun=\"t\"\ntimeout=\"soon\"\n")
            .expect_err("bad timeout");
        assert!(e.to_string().contains("tree.a.suite.x.timeout"));
    }

    #[test]
    fn bad_suites_and_rules_fail_at_load_with_file_line_and_fix() {
        let base = "[tree.a]\nrepo = \"a\"\n[tree.a.suite.build]\n";
        let cases = [
            (
                "run = \"  \"\n",
                4,
                "tree.a.suite.build.run",
                "command is empty",
            ),
            (
                "run = \"make\"\ntimeout = \"0s\"\n",
                5,
                "timeout",
                "above zero",
            ),
            (
                "run = \"make\"\nretries = 1000\n",
                5,
                "retries",
                "at most 20",
            ),
            (
                "run = \"make\"\nworkdir = \"../up\"\n",
                5,
                "workdir",
                "inside the tree",
            ),
            (
                "run = \"make\"\nworkdir = \"/etc\"\n",
                5,
                "workdir",
                "inside the tree",
            ),
            ("run = \"make\"\ndisk = \"0\"\n", 5, "disk", "above zero"),
            (
                "run = \"make\"\nprocesses = 0\n",
                5,
                "processes",
                "1 or more",
            ),
            (
                "run = \"make\"\n[tree.a.branch.queue]\nrequires = [\"build\",\n  \"biuld\"]\n",
                7,
                "tree.a.branch.queue.requires[1]",
                "biuld",
            ),
        ];
        for (suite, line, key, says) in cases {
            let text = format!("{base}{suite}");
            let e = parse(&text).expect_err(suite).to_string();
            assert!(
                e.starts_with(&format!("/srv/pg/patchgate.toml:{line}: ")),
                "{suite}: {e}"
            );
            assert!(e.contains(key) && e.contains(says), "{suite}: {e}");
        }
    }
}
