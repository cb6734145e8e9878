//! `format=flowed` text (RFC 3676): soft line breaks joined, space-stuffing
//! undone, `DelSp=yes` honoured.
//!
//! Two readings, because two readers matter. A patch is read exactly as
//! `git mailinfo` reads it (git 2.17 and later), so that the commit message
//! and diff patchgate hands to `git am` are the ones `git am` of the posted
//! mail would apply, byte for byte: git unstuffs one leading space from
//! every line and joins every line that ends in a space, with no notion of
//! quote depth. Any other mail is read as a mail client shows it, with quote
//! depth respected, so a quoted line never joins an unquoted one and a
//! trailer in a reply is found on its own line. Both keep the signature
//! separator `-- ` as it is and never join across it.

/// Decode as `git mailinfo`'s `handle_filter_flowed` does.
pub(crate) fn decode_like_git(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending = String::new();
    for line in text.split_inclusive('\n') {
        let content = line.strip_suffix('\n').unwrap_or(line);
        let content = content.strip_suffix('\r').unwrap_or(content);
        if content == "-- " {
            if !pending.is_empty() {
                out.push_str(&pending);
                pending.clear();
            }
            out.push_str(line);
            continue;
        }
        let ending = &line[content.len()..];
        let content = content.strip_prefix(' ').unwrap_or(content);
        if let Some(soft) = content.strip_suffix(' ') {
            pending.push_str(if delsp { soft } else { content });
            continue;
        }
        out.push_str(&pending);
        pending.clear();
        out.push_str(content);
        out.push_str(ending);
    }
    // A soft break on the last line: git writes what it held, unterminated.
    out.push_str(&pending);
    out
}

/// Decode as RFC 3676 says a reader shows it: quote marks counted and kept
/// (written `> ` once per level), lines joined only within one quote depth.
pub(crate) fn decode(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    // The paragraph being joined, and its quote depth.
    let mut pending: Option<(usize, String)> = None;
    for line in text.split_inclusive('\n') {
        let content = line.strip_suffix('\n').unwrap_or(line);
        let content = content.strip_suffix('\r').unwrap_or(content);
        let depth = content.bytes().take_while(|&b| b == b'>').count();
        let rest = &content[depth..];
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        // A paragraph ends where the quote depth changes, even without a
        // hard break (RFC 3676 4.5).
        if let Some((d, text)) = pending.take_if(|(d, _)| *d != depth) {
            push_line(&mut out, d, &text);
        }
        let signature = rest == "-- ";
        match rest.strip_suffix(' ') {
            Some(soft) if !signature => {
                let piece = if delsp { soft } else { rest };
                pending
                    .get_or_insert_with(|| (depth, String::new()))
                    .1
                    .push_str(piece);
            }
            _ => {
                let mut text = pending.take().map(|(_, t)| t).unwrap_or_default();
                text.push_str(rest);
                push_line(&mut out, depth, &text);
            }
        }
    }
    if let Some((d, text)) = pending {
        push_line(&mut out, d, &text);
    }
    if !text.ends_with('\n') && out.ends_with('\n') {
        out.pop();
    }
    out
}

fn push_line(out: &mut String, depth: usize, text: &str) {
    if depth > 0 {
        out.push_str(&">".repeat(depth));
        if !text.is_empty() {
            out.push(' ');
        }
    }
    out.push_str(text);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_reading_unstuffs_joins_and_keeps_the_signature_separator() {
        let text = "one \ntwo\n  ctx\n From x\n-- \nsig\n";
        assert_eq!(
            decode_like_git(text, false),
            "one two\n ctx\nFrom x\n-- \nsig\n"
        );
        assert_eq!(decode_like_git("one  \ntwo\n", true), "one two\n");
        assert_eq!(decode_like_git("a-\nb\n", true), "a-\nb\n");
        // git knows no quote depth: a quoted soft break joins what follows.
        assert_eq!(decode_like_git("> q \nplain\n", false), "> q plain\n");
    }

    #[test]
    fn reader_reading_respects_quote_depth() {
        let text = "> quoted \n> on\nplain \nline\n>> deep \n> shallow\n";
        assert_eq!(
            decode(text, false),
            "> quoted on\nplain line\n>> deep \n> shallow\n"
        );
        assert_eq!(decode("wo \nrd\n", true), "word\n");
        assert_eq!(decode(" From x\n-- \nsig", false), "From x\n-- \nsig");
    }
}
