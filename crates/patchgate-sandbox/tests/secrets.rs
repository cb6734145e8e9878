//! A suite cannot read what only root may read under /etc, although it runs
//! as a uid that owns such files. In its own test binary: the sandbox finds
//! private entries once per process, so the secret must exist before the
//! first run of this process.

use patchgate_sandbox::{Config, Sandbox, Spec};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

/// Removes the planted file whatever the test's outcome.
struct Planted(std::path::PathBuf);

impl Drop for Planted {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_root_only_file_in_etc_is_not_readable_by_a_suite() {
    let path =
        std::path::PathBuf::from(format!("/etc/patchgate-test-secret-{}", std::process::id()));
    if std::fs::write(&path, "topsecret\n").is_err() {
        eprintln!("skipped: /etc is not writable here");
        return;
    }
    let planted = Planted(path);
    std::fs::set_permissions(&planted.0, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let work = tempfile::tempdir().expect("worktree");
    let sandbox = Sandbox::new(Config::default()).expect("bwrap is installed (scripts/setup)");
    let mut spec = Spec::new(
        format!("cat {}; echo done", planted.0.display()),
        work.path(),
    );
    spec.wall_time = Duration::from_secs(20);
    let out = sandbox.run(&spec).expect("run");
    let text = String::from_utf8_lossy(&out.output);
    assert!(text.contains("done"), "the suite ran: {text}");
    assert!(!text.contains("topsecret"), "the secret leaked: {text}");
}
