//! How the binary prints: a reader that stops early (`| head`) ends the
//! output, not the program with a panic.

use crate::archives::PMU;
use crate::util::{data, Dir};
use std::process::{Command, Stdio};

#[test]
fn series_list_into_a_closed_pipe_exits_without_a_panic() {
    let dir = Dir::new();
    dir.ingest(&[&data(PMU)]);
    let (reader, writer) = std::io::pipe().expect("a pipe");
    // The reader is gone before the first byte is written, as with
    // `patchgate series list | head -0`.
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_patchgate"))
        .args(["--config", dir.config().to_str().expect("utf-8 path")])
        .args(["series", "list", "--json"])
        .env_remove("PATCHGATE_CONFIG")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("patchgate runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && out.status.code() != Some(101),
        "a closed stdout made patchgate panic ({:?}):\n{stderr}",
        out.status
    );
}
