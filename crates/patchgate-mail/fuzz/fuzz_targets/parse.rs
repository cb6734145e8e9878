//! Fuzz target: parse() and the mbox splitter must return on any bytes, and
//! render_am must accept whatever parse() returns.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchgate_mail::{mbox, parse, render_am, subject};

fuzz_target!(|data: &[u8]| {
    let message = parse(data);
    let _ = render_am(&message, &[]);
    for raw in mbox::split(data) {
        let _ = parse(&raw);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = subject::parse(s);
    }
});
