//! Print what patchgate-mail reads from each message of an mbox: a quick
//! look at real mail while working on the parser.

use patchgate_mail::{mbox, parse};

fn main() {
    for path in std::env::args().skip(1) {
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        for raw in mbox::split(&data) {
            let m = parse(&raw);
            let trailers: Vec<&str> = m.trailers.iter().map(|t| t.name.as_str()).collect();
            println!(
                "{path}: {:?} {:?} files={:?} trailers={trailers:?} problems={:?}",
                m.kind, m.subject, m.files, m.problems
            );
        }
    }
}
