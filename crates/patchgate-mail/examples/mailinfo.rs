//! Print what patchgate-mail reads from each message of an mbox: a quick
//! look at real mail while working on the parser. With `--am`, print the
//! am-ready rendering of each patch instead.

use std::io::Write;

use patchgate_mail::{mbox, parse, render_am, Kind};

fn main() {
    let mut am = false;
    for arg in std::env::args().skip(1) {
        if arg == "--am" {
            am = true;
            continue;
        }
        let data = match std::fs::read(&arg) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{arg}: {e}");
                continue;
            }
        };
        for raw in mbox::split(&data) {
            let m = parse(&raw);
            if am {
                if m.kind == Kind::Patch {
                    // A closed stdout (`| head`) is not worth a panic.
                    if std::io::stdout().write_all(&render_am(&m, &[])).is_err() {
                        return;
                    }
                }
                continue;
            }
            let trailers: Vec<&str> = m.trailers.iter().map(|t| t.name.as_str()).collect();
            println!(
                "{arg}: {:?} {:?} files={:?} trailers={trailers:?} problems={:?}",
                m.kind, m.subject, m.files, m.problems
            );
        }
    }
}
