//! Rebuild, from a series' unified diffs alone, a tree the series applies to.
//!
//! The real trees of list mail are not available offline, yet `git am` of
//! `series mbox` output must be tried on a real repository. The diffs say
//! enough: every context and `-` line is a line of the file at a known line
//! number. Each file is modelled as slots that are either a known line or
//! "unknown base line #k"; the patches are walked in order, hunks applied at
//! their exact old line numbers, and a context or `-` line falling on an
//! unknown slot fixes that base line's text. Base lines no hunk ever saw get
//! unique filler text. A hunk with fewer trailing than leading context lines
//! (or than the diff's context size), or whose old side has
//! `\ No newline at end of file`, ends at the end of the file, so the base is
//! cut there; the marker also says whether the base's last line ends in a
//! newline.
//!
//! Only what list patches use is supported: text diffs of modified, new and
//! deleted files. Binary patches and renames are refused with a reason.

use std::collections::BTreeMap;

/// One line of a hunk: `' '` context, `'-'` removed, `'+'` added.
#[derive(Debug, Clone)]
struct HunkLine {
    tag: char,
    text: String,
}

#[derive(Debug, Clone)]
struct Hunk {
    old_start: usize,
    old_len: usize,
    lines: Vec<HunkLine>,
    /// The old side's last line has no newline.
    old_noeol: bool,
    /// The new side's last line has no newline.
    new_noeol: bool,
}

impl Hunk {
    /// Context lines before the first change.
    fn leading(&self) -> usize {
        self.lines.iter().take_while(|l| l.tag == ' ').count()
    }

    /// Context lines after the last change.
    fn trailing(&self) -> usize {
        self.lines.iter().rev().take_while(|l| l.tag == ' ').count()
    }
}

/// The diff of one file in one patch.
#[derive(Debug, Clone)]
struct FileDiff {
    /// None for `/dev/null`: the file is created.
    old: Option<String>,
    /// None for `/dev/null`: the file is deleted.
    new: Option<String>,
    hunks: Vec<Hunk>,
}

/// All file diffs in `text`, in order. `text` may hold many mails: only
/// `diff --git` sections are read, and a hunk header counts only right
/// after the file header or another hunk.
fn parse(text: &str) -> Result<Vec<FileDiff>, String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut files: Vec<FileDiff> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(header) = lines[i].strip_prefix("diff --git ") else {
            i += 1;
            continue;
        };
        i += 1;
        let (mut old, mut new) = (None, None);
        let mut seen_paths = false;
        while i < lines.len() && !lines[i].starts_with("@@ ") {
            let line = lines[i];
            if line.starts_with("diff --git ") {
                break;
            }
            if line.starts_with("GIT binary patch") || line.starts_with("Binary files ") {
                return Err(format!("binary patch for {header}: not supported"));
            }
            if line.starts_with("rename from ") || line.starts_with("copy from ") {
                return Err(format!("rename or copy in {header}: not supported"));
            }
            if let Some(p) = line.strip_prefix("--- ") {
                old = path(p);
                seen_paths = true;
            } else if let Some(p) = line.strip_prefix("+++ ") {
                new = path(p);
                seen_paths = true;
                i += 1;
                break;
            }
            i += 1;
        }
        if !seen_paths {
            // A mode change alone: nothing to rebuild.
            continue;
        }
        let mut hunks = Vec::new();
        while i < lines.len() && lines[i].starts_with("@@ ") {
            let (hunk, next) = parse_hunk(&lines, i)?;
            hunks.push(hunk);
            i = next;
        }
        files.push(FileDiff { old, new, hunks });
    }
    Ok(files)
}

/// `a/arm/pmu.c` → `arm/pmu.c`; `/dev/null` → None.
fn path(field: &str) -> Option<String> {
    let field = field.split('\t').next().unwrap_or(field).trim_end();
    if field == "/dev/null" {
        return None;
    }
    Some(
        field
            .strip_prefix("a/")
            .or_else(|| field.strip_prefix("b/"))
            .unwrap_or(field)
            .to_string(),
    )
}

/// `-a[,b]` or `+c[,d]` of a hunk header: start and length (default 1).
fn range(field: &str) -> Result<(usize, usize), String> {
    let bad = || format!("bad hunk range `{field}`");
    let field = field.get(1..).ok_or_else(bad)?;
    let (start, len) = match field.split_once(',') {
        Some((s, l)) => (s, l),
        None => (field, "1"),
    };
    Ok((
        start.parse().map_err(|_| bad())?,
        len.parse().map_err(|_| bad())?,
    ))
}

fn parse_hunk(lines: &[&str], at: usize) -> Result<(Hunk, usize), String> {
    let header = lines[at];
    let mut fields = header.split(' ');
    let (old_start, old_len) = range(fields.nth(1).unwrap_or(""))?;
    let (_, new_len) = range(fields.next().unwrap_or(""))?;
    let mut hunk = Hunk {
        old_start,
        old_len,
        lines: Vec::new(),
        old_noeol: false,
        new_noeol: false,
    };
    let (mut old_left, mut new_left) = (old_len, new_len);
    let mut i = at + 1;
    let mut last_tag = ' ';
    loop {
        // The marker belongs to the line before it, which may be the last.
        if lines.get(i).is_some_and(|l| l.starts_with('\\')) {
            match last_tag {
                '-' => hunk.old_noeol = true,
                '+' => hunk.new_noeol = true,
                _ => {
                    hunk.old_noeol = true;
                    hunk.new_noeol = true;
                }
            }
            i += 1;
            continue;
        }
        if old_left == 0 && new_left == 0 {
            break;
        }
        let line = lines
            .get(i)
            .ok_or_else(|| format!("hunk `{header}` is cut short"))?;
        // Some mailers drop the space of an empty context line.
        let (tag, text) = match line.chars().next() {
            None => (' ', ""),
            Some(c @ (' ' | '-' | '+')) => (c, &line[1..]),
            Some(_) => return Err(format!("hunk `{header}` is cut short at `{line}`")),
        };
        match tag {
            ' ' if old_left > 0 && new_left > 0 => {
                old_left -= 1;
                new_left -= 1;
            }
            '-' if old_left > 0 => old_left -= 1,
            '+' if new_left > 0 => new_left -= 1,
            _ => return Err(format!("hunk `{header}` has more lines than it says")),
        }
        hunk.lines.push(HunkLine {
            tag,
            text: text.to_string(),
        });
        last_tag = tag;
        i += 1;
    }
    Ok((hunk, i))
}

/// A line of a file as the walk knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Known(String),
    /// Line `k` (0-based) of the base, text possibly not yet known.
    Base(usize),
}

/// One file during the walk.
#[derive(Debug, Default)]
struct File {
    /// The file exists in the base tree.
    in_base: bool,
    /// Base lines seen so far; None = text not fixed by any hunk.
    base: Vec<Option<String>>,
    /// Whether the base's last line lacks a newline, once known.
    base_noeol: Option<bool>,
    /// The current content; None once deleted.
    current: Option<Vec<Slot>>,
    /// The current content continues with base lines not yet seen.
    tail_open: bool,
    /// Whether the current last line lacks a newline; None = as the base.
    current_noeol: Option<bool>,
}

impl File {
    fn fix(&mut self, slot: &Slot, text: &str, path: &str, line: usize) -> Result<(), String> {
        match slot {
            Slot::Known(t) if t == text => Ok(()),
            Slot::Known(t) => Err(format!(
                "{path}:{line}: the diff expects `{text}` where an earlier patch left `{t}`"
            )),
            Slot::Base(k) => match &self.base[*k] {
                None => {
                    self.base[*k] = Some(text.to_string());
                    Ok(())
                }
                Some(t) if t == text => Ok(()),
                Some(t) => Err(format!(
                    "{path}: base line {} must be both `{t}` and `{text}`",
                    k + 1
                )),
            },
        }
    }

    fn set_base_noeol(&mut self, noeol: bool, path: &str) -> Result<(), String> {
        match self.base_noeol {
            Some(known) if known != noeol => Err(format!(
                "{path}: the diffs disagree on whether the file ends in a newline"
            )),
            _ => {
                self.base_noeol = Some(noeol);
                Ok(())
            }
        }
    }

    /// Apply the hunks of one patch to this file.
    fn apply(&mut self, d: &FileDiff, context: usize, path: &str) -> Result<(), String> {
        let mut current = self
            .current
            .take()
            .ok_or_else(|| format!("{path}: patched after it was deleted"))?;
        let mut out = Vec::with_capacity(current.len());
        let mut pos = 0;
        for h in &d.hunks {
            // An empty old side inserts after line old_start.
            let start = if h.old_len == 0 {
                h.old_start
            } else {
                h.old_start - 1
            };
            if start < pos {
                return Err(format!("{path}: hunks at line {} overlap", h.old_start));
            }
            while current.len() < start + h.old_len && self.tail_open {
                current.push(Slot::Base(self.base.len()));
                self.base.push(None);
            }
            if current.len() < start + h.old_len {
                return Err(format!(
                    "{path}: hunk at line {} reaches past the end of the file",
                    h.old_start
                ));
            }
            out.extend_from_slice(&current[pos..start]);
            pos = start;
            for l in &h.lines {
                match l.tag {
                    '+' => out.push(Slot::Known(l.text.clone())),
                    tag => {
                        let slot = current[pos].clone();
                        self.fix(&slot, &l.text, path, pos + 1)?;
                        if tag == ' ' {
                            out.push(Slot::Known(l.text.clone()));
                        }
                        pos += 1;
                    }
                }
            }
            let trailing = h.trailing();
            let at_end = h.old_noeol
                || d.new.is_none()
                || trailing < h.leading()
                || (trailing < context && h.lines.iter().any(|l| l.tag != ' '));
            if at_end {
                if pos != current.len() {
                    return Err(format!(
                        "{path}: hunk at line {} must end the file, but {} lines follow",
                        h.old_start,
                        current.len() - pos
                    ));
                }
                // The base ends here: no unseen lines follow.
                self.tail_open = false;
                match self.current_noeol {
                    None => self.set_base_noeol(h.old_noeol, path)?,
                    Some(known) if known != h.old_noeol => {
                        return Err(format!(
                        "{path}: the diff disagrees with the previous patch on the final newline"
                    ))
                    }
                    Some(_) => {}
                }
                self.current_noeol = Some(h.new_noeol);
            }
        }
        out.extend_from_slice(&current[pos..]);
        self.current = if d.new.is_none() { None } else { Some(out) };
        Ok(())
    }

    /// The base file's bytes, unknown lines filled with unique text.
    fn base_bytes(&self, path: &str) -> Vec<u8> {
        let lines: Vec<String> = self
            .base
            .iter()
            .enumerate()
            .map(|(k, l)| match l {
                Some(t) => t.clone(),
                None => format!("patchgate filler: base line {} of {path}", k + 1),
            })
            .collect();
        let mut text = lines.join("\n");
        if !lines.is_empty() && self.base_noeol != Some(true) {
            text.push('\n');
        }
        text.into_bytes()
    }
}

/// The files, path → bytes, of a tree that the diffs in `text` (one or more
/// patch mails, in the order they apply) apply to.
pub fn rebuild(text: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let diffs = parse(text)?;
    let context = diffs
        .iter()
        .flat_map(|d| &d.hunks)
        .map(|h| h.leading().max(h.trailing()))
        .max()
        .unwrap_or(0);
    let mut files: BTreeMap<String, File> = BTreeMap::new();
    for d in &diffs {
        let path = d
            .old
            .clone()
            .or_else(|| d.new.clone())
            .ok_or("a diff from /dev/null to /dev/null")?;
        if d.old.is_some() && d.new.is_some() && d.old != d.new {
            return Err(format!("{path}: renamed; not supported"));
        }
        let file = files.entry(path.clone()).or_insert_with(|| File {
            in_base: d.old.is_some(),
            current: if d.old.is_some() {
                Some(Vec::new())
            } else {
                None
            },
            tail_open: d.old.is_some(),
            ..File::default()
        });
        if d.old.is_none() {
            if file.current.is_some() {
                return Err(format!("{path}: created, but it exists"));
            }
            file.current = Some(Vec::new());
            file.current_noeol = Some(false);
        }
        file.apply(d, context, &path)?;
    }
    Ok(files
        .iter()
        .filter(|(_, f)| f.in_base)
        .map(|(p, f)| (p.clone(), f.base_bytes(p)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::rebuild;

    fn one(text: &str, path: &str) -> String {
        let files = rebuild(text).unwrap_or_else(|e| panic!("rebuild failed: {e}"));
        String::from_utf8(files[path].clone()).expect("utf-8 base")
    }

    #[test]
    fn context_and_removed_lines_fix_base_lines_at_their_numbers() {
        let d = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -3,3 +3,3 @@\n c\n-d\n+D\n e\n";
        let base = one(d, "f");
        let lines: Vec<&str> = base.lines().collect();
        assert_eq!(lines[2..5], ["c", "d", "e"]);
        assert!(lines[0].contains("filler") && lines[1].contains("filler"));
        assert_ne!(lines[0], lines[1]);
    }

    #[test]
    fn a_hunk_with_short_trailing_context_cuts_the_base_at_its_end() {
        let d = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -2,4 +2,4 @@\n b\n c\n d\n-e\n+E\n";
        assert!(one(d, "f").ends_with("b\nc\nd\ne\n"));
    }

    #[test]
    fn no_newline_marker_on_the_old_side_drops_the_final_newline() {
        let d = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n";
        assert_eq!(one(d, "f"), "a");
    }

    #[test]
    fn a_later_patch_sees_the_lines_an_earlier_one_added() {
        let d = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n+new\n b\n c\n\
                 diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n a\n-new\n+newer\n b\n c\n";
        assert!(one(d, "f").starts_with("a\nb\nc\n"));
        let wrong = d.replace("-new\n", "-other\n");
        assert!(rebuild(&wrong).is_err(), "a contradiction must be reported");
    }

    #[test]
    fn created_files_are_not_in_the_base_and_deleted_ones_are_whole() {
        let d = "diff --git a/n b/n\nnew file mode 100644\n--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+x\n\
                 diff --git a/g b/g\ndeleted file mode 100644\n--- a/g\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-p\n-q\n";
        let files = rebuild(d).expect("rebuilds");
        assert!(!files.contains_key("n"));
        assert_eq!(files["g"], b"p\nq\n");
    }
}
