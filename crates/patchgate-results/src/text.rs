//! Text clean-up shared by the line-oriented parsers: terminal colour codes
//! and carriage returns are noise that suites print for humans, and must not
//! end up in test names.

/// Removes ANSI escape sequences (`\e[32m`, `\e[0m`, …) and a trailing `\r`.
///
/// kvm-unit-tests colours its PASS/FAIL/SKIP words and its guests print
/// `\r\n` line ends; both would otherwise leak into names and details.
pub(crate) fn clean_line(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if !line.contains('\u{1b}') {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        // CSI: ESC [ parameters… final byte in '@'..='~'. Other escapes are
        // two characters long (ESC + one); dropping them is good enough here.
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::clean_line;

    #[test]
    fn strips_colour_codes_and_cr() {
        let table = [
            ("\u{1b}[32mPASS\u{1b}[0m x (1 tests)\r", "PASS x (1 tests)"),
            ("plain", "plain"),
            ("\u{1b}", ""),
            ("a\u{1b}[", "a"),
            ("\u{1b}[1;31mFAIL\u{1b}[0m", "FAIL"),
        ];
        for (input, want) in table {
            assert_eq!(clean_line(input), want, "{input:?}");
        }
    }
}
