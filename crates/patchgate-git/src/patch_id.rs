//! Patch ids: a hash of a diff that ignores line numbers and whitespace, so
//! the same change posted twice (a resend, a rebase, a v2 with only the
//! commit message reworded) is recognised.

use crate::command::GitEnv;
use crate::error::Result;

/// `git patch-id --stable` of a diff (a whole mail or just its diff part);
/// `None` when the input holds no diff.
pub fn patch_id_stable(diff: &[u8]) -> Result<Option<String>> {
    // patch-id needs no repository; run it where none can be found by
    // accident.
    let cwd = std::env::temp_dir();
    let cmd = GitEnv::isolated()
        .command(&cwd)
        .args(["patch-id", "--stable"]);
    let args = cmd.args_text();
    let output = crate::command::check(&cwd, &args, cmd.output_with_input(diff)?)?;
    let text = output.stdout_text();
    Ok(text
        .split_whitespace()
        .next()
        .filter(|id| id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned))
}
