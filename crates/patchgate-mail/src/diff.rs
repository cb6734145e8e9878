//! Finding the unified diff inside decoded mail text, and the paths it touches.
//!
//! This module owns where a diff starts, where it ends and which files it
//! names. The end is found by following the diff's own grammar (file headers,
//! hunk line counts, binary blocks) rather than by looking for footers, so a
//! signature or a mailing-list footer after the last hunk is never part of the
//! diff and the result still applies.

/// A text cut around its diff: `before` is everything above the diff's first
/// line, `diff` the diff itself (ending in a newline).
#[derive(Debug)]
pub(crate) struct Found<'a> {
    pub before: &'a str,
    pub diff: String,
}

/// Where the diff in `text` starts and ends, if there is one. `text` must use
/// LF line ends.
pub(crate) fn find(text: &str) -> Option<Found<'_>> {
    // The prose above the diff is most of a mail and cannot hold its first
    // line: skip it with one fast search instead of splitting it into lines.
    // Two lines before the first candidate are kept for the `diff …` or
    // `Index:`/`====` lines that may introduce a plain diff.
    let from = back_lines(text, first_candidate(text)?, 2);
    let lines: Vec<&str> = split_lf(&text[from..]).collect();
    let start = start_line(&lines)?;
    let end = end_line(&lines, start);
    if end <= start {
        return None;
    }
    let before_len: usize = from + lines[..start].iter().map(|l| l.len() + 1).sum::<usize>();
    let before = text.get(..before_len.min(text.len())).unwrap_or("");
    // The lines were cut at each LF, so joined again they are one slice of
    // the text: copied once rather than line by line.
    let diff_len: usize = lines[start..end].iter().map(|l| l.len() + 1).sum::<usize>() - 1;
    let mut diff = String::with_capacity(diff_len + 1);
    diff.push_str(text.get(before_len..before_len + diff_len).unwrap_or(""));
    diff.push('\n');
    Some(Found { before, diff })
}

/// `text.split('\n')`, with the line ends found by one SIMD scan instead
/// of a search per line: diffs are thousands of short lines.
fn split_lf(text: &str) -> impl Iterator<Item = &str> {
    let mut ends = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut start = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match ends.next() {
            // Cutting at an LF byte always lands on a character boundary.
            Some(end) => {
                let line = text.get(start..end);
                start = end + 1;
                line
            }
            None => {
                done = true;
                text.get(start..)
            }
        }
    })
}

/// `text.lines()` (a final empty line dropped, a CR before the LF
/// removed), by [`split_lf`].
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let empty = text.is_empty();
    split_lf(body)
        .filter(move |_| !empty)
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// Byte offset of the first line that starts with `diff --git ` or `--- `:
/// no line above it can start a diff.
fn first_candidate(text: &str) -> Option<usize> {
    if text.starts_with("diff --git ") || text.starts_with("--- ") {
        return Some(0);
    }
    let bytes = text.as_bytes();
    let git = memchr::memmem::find(bytes, b"\ndiff --git ");
    let plain = memchr::memmem::find(bytes, b"\n--- ");
    match (git, plain) {
        (Some(a), Some(b)) => Some(a.min(b) + 1),
        (a, b) => a.or(b).map(|i| i + 1),
    }
}

/// The start of the line `n` lines above the line starting at `pos`.
fn back_lines(text: &str, pos: usize, n: usize) -> usize {
    let bytes = text.as_bytes();
    let mut start = pos;
    for _ in 0..n {
        if start == 0 {
            break;
        }
        start = memchr::memrchr(b'\n', &bytes[..start - 1]).map_or(0, |i| i + 1);
    }
    start
}

/// The first line of the diff: `diff --git`, or a `--- `/`+++ ` pair (with the
/// `diff …` or `Index:`/`====` lines that introduce it in non-git diffs).
fn start_line(lines: &[&str]) -> Option<usize> {
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("diff --git ") {
            return Some(i);
        }
        let pair = line.starts_with("--- ")
            && lines.get(i + 1).is_some_and(|l| l.starts_with("+++ "))
            && lines.get(i + 2).is_some_and(|l| l.starts_with("@@ "));
        if pair {
            let mut s = i;
            if s >= 1 && lines[s - 1].starts_with("diff ") {
                s -= 1;
            } else if s >= 2
                && lines[s - 1].starts_with("====")
                && lines[s - 2].starts_with("Index: ")
            {
                s -= 2;
            }
            return Some(s);
        }
    }
    None
}

/// Lines that may stand between hunks: git's extended headers and the file
/// headers of plain unified diffs.
const HEADER_PREFIXES: [&str; 17] = [
    "diff ",
    "index ",
    "--- ",
    "+++ ",
    "old mode ",
    "new mode ",
    "deleted file mode ",
    "new file mode ",
    "similarity index ",
    "dissimilarity index ",
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
    "Binary files ",
    "Index: ",
    "====",
];

#[derive(Debug, Clone, Copy)]
enum State {
    Header,
    Hunk { old: u32, new: u32 },
    Binary,
}

/// One past the diff's last line, found by following its grammar from `start`.
fn end_line(lines: &[&str], start: usize) -> usize {
    let mut state = State::Header;
    let mut end = start;
    let mut i = start;
    while i < lines.len() {
        let line = lines[i];
        match state {
            State::Hunk { old, new } => match hunk_step(line, old, new) {
                Some(next) => state = next,
                // The hunk's counts disagree with its lines: read the line
                // again as whatever follows a hunk.
                None => {
                    state = State::Header;
                    continue;
                }
            },
            State::Binary => {
                if line.starts_with("diff ") {
                    state = State::Header;
                    continue;
                }
                if !is_binary_line(line) {
                    break;
                }
            }
            State::Header => {
                if let Some(counts) = hunk_counts(line) {
                    state = match counts {
                        (0, 0) => State::Header,
                        (old, new) => State::Hunk { old, new },
                    };
                } else if line == "GIT binary patch" {
                    state = State::Binary;
                } else if line.starts_with('\\')
                    || HEADER_PREFIXES.iter().any(|p| line.starts_with(p))
                {
                    // Accepted as part of the diff.
                } else {
                    break;
                }
            }
        }
        i += 1;
        end = i;
    }
    // Blank lines kept by a binary block at the very end are not needed to
    // apply it once the diff ends with a newline.
    while end > start + 1 && lines[end - 1].is_empty() && matches!(state, State::Binary) {
        end -= 1;
    }
    end
}

/// The state after one line inside a hunk with `old`/`new` lines left, or
/// `None` when the line cannot belong to the hunk.
fn hunk_step(line: &str, old: u32, new: u32) -> Option<State> {
    let (old, new) = match line.as_bytes().first() {
        None | Some(b' ') if old > 0 && new > 0 => (old - 1, new - 1),
        Some(b'-') if old > 0 => (old - 1, new),
        Some(b'+') if new > 0 => (old, new - 1),
        Some(b'\\') => (old, new),
        _ => return None,
    };
    Some(if old == 0 && new == 0 {
        State::Header
    } else {
        State::Hunk { old, new }
    })
}

/// A line of a `GIT binary patch` block: `literal N`, `delta N`, a blank
/// separator, or base85 data led by its length letter.
fn is_binary_line(line: &str) -> bool {
    if line.is_empty() || line.starts_with("literal ") || line.starts_with("delta ") {
        return true;
    }
    let b = line.as_bytes();
    b[0].is_ascii_alphabetic()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&()*+-;<=>?@^_`{|}~".contains(c))
}

/// `@@ -a,b +c,d @@` → `(b, d)`; a missing count means one line.
fn hunk_counts(line: &str) -> Option<(u32, u32)> {
    let rest = line.strip_prefix("@@ -")?;
    // `split_once(" +")` and `split_once(" @@")`, by the spaces: a string
    // pattern sets up a substring search per call, and this runs on every
    // line between hunks.
    let plus = space_before(rest, b"+")?;
    let (old, rest) = (&rest[..plus], &rest[plus + 2..]);
    let at = space_before(rest, b"@@")?;
    Some((range_len(old)?, range_len(&rest[..at])?))
}

/// Where the first space followed by `next` stands in `text`.
fn space_before(text: &str, next: &[u8]) -> Option<usize> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b' ', bytes).find(|&i| bytes[i + 1..].starts_with(next))
}

fn range_len(range: &str) -> Option<u32> {
    match range.split_once(',') {
        Some((start, len)) => {
            start.parse::<u32>().ok()?;
            len.parse().ok()
        }
        None => range.parse::<u32>().ok().map(|_| 1),
    }
}

/// The lines of a diff outside its hunks: file headers, `index`, mode and
/// rename lines. Hunk bodies can hold `--- `, `+++ ` or `diff --git` lines
/// of their own (a removed line that starts so), so they are skipped by
/// the counts in their `@@` line, and the `@@` lines themselves too.
fn header_lines(diff: &str) -> impl Iterator<Item = &str> {
    let mut in_hunk = State::Header;
    lines(diff).filter(move |line| {
        if let State::Hunk { old, new } = in_hunk {
            if let Some(next) = hunk_step(line, old, new) {
                in_hunk = next;
                return false;
            }
            in_hunk = State::Header;
        }
        if let Some(counts) = hunk_counts(line) {
            if counts != (0, 0) {
                in_hunk = State::Hunk {
                    old: counts.0,
                    new: counts.1,
                };
            }
            return false;
        }
        true
    })
}

/// The paths a diff touches, in order of first appearance, both sides of a
/// rename or copy, `/dev/null` left out.
pub(crate) fn files(diff: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |path: String| {
        if path != "/dev/null" && !path.is_empty() && !out.contains(&path) {
            out.push(path);
        }
    };
    let mut git_header: Option<&str> = None;
    let mut named_in_section = false;
    for line in header_lines(diff) {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            if let (Some(h), false) = (git_header, named_in_section) {
                for p in paths_of_git_header(h) {
                    push(p);
                }
            }
            git_header = Some(rest);
            named_in_section = false;
            continue;
        }
        let named = ["--- ", "+++ "]
            .iter()
            .find_map(|p| line.strip_prefix(p))
            .map(|p| strip_prefix_component(&unquote(strip_timestamp(p)), git_header.is_some()))
            .or_else(|| {
                ["rename from ", "rename to ", "copy from ", "copy to "]
                    .iter()
                    .find_map(|p| line.strip_prefix(p))
                    .map(unquote)
            });
        if let Some(path) = named {
            named_in_section = true;
            push(path);
        }
    }
    if let (Some(h), false) = (git_header, named_in_section) {
        for p in paths_of_git_header(h) {
            push(p);
        }
    }
    out
}

/// One file of a git diff, with the blobs its `index` line names: what
/// the file was before the patch and what it is after. Blob ids are as
/// abbreviated as the patch wrote them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileChange {
    /// Path before the patch; `None` for a new file.
    pub old_path: Option<String>,
    /// Path after the patch; `None` for a deleted file.
    pub new_path: Option<String>,
    /// Blob before; `None` when the patch names none (a plain diff) or the
    /// file is new.
    pub old_blob: Option<String>,
    /// Blob after; `None` when the patch names none or the file is deleted.
    pub new_blob: Option<String>,
}

/// The files of a git diff with their `index` blobs, in order. Sections
/// without a `diff --git` header (plain diffs) are left out: they name no
/// blobs.
pub fn changes(diff: &str) -> Vec<FileChange> {
    let mut out: Vec<FileChange> = Vec::new();
    for line in header_lines(diff) {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            let paths = paths_of_git_header(rest);
            let (a, b) = match paths.as_slice() {
                [one] => (Some(one.clone()), Some(one.clone())),
                [a, b, ..] => (Some(a.clone()), Some(b.clone())),
                [] => (None, None),
            };
            out.push(FileChange {
                old_path: a,
                new_path: b,
                old_blob: None,
                new_blob: None,
            });
            continue;
        }
        let Some(current) = out.last_mut() else {
            continue;
        };
        if line.starts_with("new file mode") {
            current.old_path = None;
        } else if line.starts_with("deleted file mode") {
            current.new_path = None;
        } else if let Some(p) = line.strip_prefix("rename from ") {
            current.old_path = Some(unquote(p));
        } else if let Some(p) = line.strip_prefix("rename to ") {
            current.new_path = Some(unquote(p));
        } else if let Some(rest) = line.strip_prefix("index ") {
            let ids = rest.split(' ').next().unwrap_or("");
            if let Some((a, b)) = ids.split_once("..") {
                let blob = |id: &str| {
                    let id = id.trim();
                    (id.len() >= 4
                        && id.bytes().all(|c| c.is_ascii_hexdigit())
                        && !id.bytes().all(|c| c == b'0'))
                    .then(|| id.to_ascii_lowercase())
                };
                current.old_blob = blob(a);
                current.new_blob = blob(b);
            }
        }
    }
    for c in &mut out {
        if c.old_path.is_none() {
            c.old_blob = None;
        }
        if c.new_path.is_none() {
            c.new_blob = None;
        }
    }
    out
}

/// `file.c\t2020-01-01 00:00:00` → `file.c`: plain diff writes a timestamp.
fn strip_timestamp(path: &str) -> &str {
    path.split('\t').next().unwrap_or(path).trim_end()
}

/// Drop git's `a/`/`b/`, or the first directory of a plain diff's path.
fn strip_prefix_component(path: &str, git: bool) -> String {
    if path == "/dev/null" {
        return path.to_string();
    }
    if git {
        for p in ["a/", "b/"] {
            if let Some(rest) = path.strip_prefix(p) {
                return rest.to_string();
            }
        }
        return path.to_string();
    }
    match path.split_once('/') {
        Some((_, rest)) if !rest.is_empty() => rest.to_string(),
        _ => path.to_string(),
    }
}

/// Undo git's C-style quoting of unusual paths (`"a/t\303\251st"`).
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_string();
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut it = inner.bytes().peekable();
    while let Some(b) = it.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match it.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(d @ b'0'..=b'7') => {
                let mut v = u32::from(d - b'0');
                for _ in 0..2 {
                    match it.peek() {
                        Some(&o @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(o - b'0');
                            it.next();
                        }
                        _ => break,
                    }
                }
                bytes.push((v & 0xff) as u8);
            }
            Some(other) => bytes.push(other),
            None => bytes.push(b'\\'),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The paths of a `diff --git a/X b/Y` line, for sections without `---`/`+++`
/// (mode changes, pure renames are named by `rename` lines instead).
fn paths_of_git_header(rest: &str) -> Vec<String> {
    // Unquoted paths may contain spaces; when both sides are equal the
    // line splits evenly, which is the case for every mode-only change.
    let len = rest.len();
    if len % 2 == 1 {
        let mid = len / 2;
        if let (Some(a), Some(b)) = (rest.get(..mid), rest.get(mid + 1..)) {
            if rest.as_bytes().get(mid) == Some(&b' ') {
                let (a, b) = (
                    strip_prefix_component(a, true),
                    strip_prefix_component(b, true),
                );
                if a == b {
                    return vec![a];
                }
            }
        }
    }
    match rest.split_once(" b/") {
        Some((a, b)) => vec![strip_prefix_component(a, true), b.to_string()],
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn changes_name_the_blobs_before_and_after() {
        let diff = "diff --git a/src/a.c b/src/a.c\n\
index 1234abc..5678def 100644\n\
--- a/src/a.c\n\
+++ b/src/a.c\n\
@@ -1,2 +1,2 @@\n\
-diff --git a/fake b/fake\n\
+index 0000000..1111111\n\
 ctx\n\
diff --git a/new.c b/new.c\n\
new file mode 100644\n\
index 0000000..abcdef1\n\
--- /dev/null\n\
+++ b/new.c\n\
@@ -0,0 +1 @@\n\
+x\n\
diff --git a/old.c b/gone.c\n\
similarity index 90%\n\
rename from old.c\n\
rename to gone.c\n\
index aaaa111..bbbb222 100644\n\
diff --git a/dead.c b/dead.c\n\
deleted file mode 100644\n\
index cccc333..0000000\n";
        let got = super::changes(diff);
        let brief: Vec<_> = got
            .iter()
            .map(|c| {
                (
                    c.old_path.as_deref(),
                    c.new_path.as_deref(),
                    c.old_blob.as_deref(),
                    c.new_blob.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            brief,
            vec![
                (
                    Some("src/a.c"),
                    Some("src/a.c"),
                    Some("1234abc"),
                    Some("5678def")
                ),
                (None, Some("new.c"), None, Some("abcdef1")),
                (
                    Some("old.c"),
                    Some("gone.c"),
                    Some("aaaa111"),
                    Some("bbbb222")
                ),
                (Some("dead.c"), None, Some("cccc333"), None),
            ]
        );
    }

    #[test]
    fn fast_line_splitting_agrees_with_std() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "a\nb",
            "a\r\nb\r\n",
            "\n\nx\n\n",
            "é\nü\r\n",
        ] {
            let split: Vec<&str> = super::split_lf(text).collect();
            assert_eq!(split, text.split('\n').collect::<Vec<_>>(), "{text:?}");
            let lines: Vec<&str> = super::lines(text).collect();
            assert_eq!(lines, text.lines().collect::<Vec<_>>(), "{text:?}");
        }
    }

    use super::*;

    const PATCH: &str = "commit message\n---\n a | 1 +\n\ndiff --git a/a b/a\nindex 1..2 100644\n--- a/a\n+++ b/a\n@@ -1,2 +1,2 @@\n-x\n+y\n \n-- \n2.37.1\n\n_______________________________________________\nlist\n";

    #[test]
    fn diff_ends_at_last_hunk_line_before_signature() {
        let f = find(PATCH).expect("the constant holds a diff");
        assert!(f.diff.starts_with("diff --git a/a b/a\n"));
        assert!(f.diff.ends_with("+y\n \n"));
        assert!(f.before.ends_with("\n\n"));
    }

    #[test]
    fn files_lists_both_sides_of_rename_without_dev_null() {
        let d = "diff --git a/old b/new\nsimilarity index 90%\nrename from old\nrename to new\ndiff --git a/n b/n\nnew file mode 100644\n--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+x\ndiff --git a/m m b/m m\nold mode 100644\nnew mode 100755\n";
        assert_eq!(files(d), ["old", "new", "n", "m m"]);
    }

    #[test]
    fn removed_line_looking_like_header_is_not_a_file() {
        let d = "--- a/f\n+++ b/f\n@@ -1,2 +1 @@\n--- x\n-y\n+z\n";
        assert_eq!(files(d), ["f"]);
    }

    #[test]
    fn quoted_path_is_unquoted() {
        assert_eq!(unquote("\"a/t\\303\\251st\""), "a/t\u{e9}st");
    }
}
