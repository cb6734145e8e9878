//! `patchgate policy`: the branch rules, checked and shown as the page a
//! submitter reads before posting.

use crate::context::Context;
use anyhow::bail;
use std::path::Path;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check every tree's rules; a bad rule is reported with its file, line
    /// and the accepted forms (as every command does when it loads the
    /// configuration).
    Check,
    /// Print each branch's rules as Markdown, the page a submitter reads
    /// before posting.
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Only this tree.
    #[arg(long)]
    tree: Option<String>,
}

pub fn run(cmd: Command, config: &Path) -> anyhow::Result<()> {
    // Loading the configuration compiles every rule; a bad one stops here
    // with its file and line.
    let ctx = Context::open(config)?;
    match cmd {
        Command::Check => {
            for tree in ctx.config.trees.values() {
                let policy = tree.policy()?;
                let branches: Vec<&str> = policy.branches.iter().map(|b| b.name.as_str()).collect();
                println!(
                    "tree {}: {} ({})",
                    tree.name,
                    super::plural(branches.len(), "branch", "branches"),
                    if branches.is_empty() {
                        "every suite required".to_string()
                    } else {
                        branches.join(", ")
                    }
                );
            }
            if ctx.config.trees.is_empty() {
                println!("no tree is configured: nothing to check");
            }
            Ok(())
        }
        Command::Show(a) => {
            let trees: Vec<_> = ctx
                .config
                .trees
                .values()
                .filter(|t| a.tree.as_ref().is_none_or(|n| *n == t.name))
                .collect();
            if trees.is_empty() {
                let known: Vec<&str> = ctx.config.trees.keys().map(String::as_str).collect();
                bail!(
                    "no tree {}; the configured trees: {}",
                    a.tree.as_deref().unwrap_or(""),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            }
            for (i, tree) in trees.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                print!("{}", patchgate_gate::render_markdown(&tree.policy()?));
            }
            Ok(())
        }
    }
}
