//! What a series' own patches say about the tree they were made on, and
//! where else to look for it: the base its `index` lines name (as `b4
//! --guess-base` finds it), and a series posted earlier that it was built
//! on (a stacked series).
//!
//! Every patch made by git names, for each file, the blob it changed
//! (`index abc123..def456`). The files a series changes, as they were
//! before its first patch touched them, are the tree its author had: a
//! commit whose files have exactly those blobs is the base the author
//! used, and an earlier series whose patches leave exactly those blobs
//! behind is a prerequisite that must be applied first.

use std::collections::BTreeMap;

use patchgate_git::{Mirror, Oid};
use patchgate_mail::Message;
use patchgate_store::{SeriesDetail, SeriesFilter, SeriesRecord, Store};

use super::TestError;

/// Commits looked at per base branch when guessing the base.
const GUESS_DEPTH: usize = 2000;

/// How long after a posting the files it was made on may reach the branch.
const LATER_WINDOW: i64 = 180 * 86_400;

/// How far back a prerequisite may have been posted.
const PREREQUISITE_WINDOW: i64 = 180 * 86_400;

/// The blobs a series expects and leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Images {
    /// Each file the series changes that existed before it, with the blob
    /// it had before the series' first patch touched it.
    pub before: BTreeMap<String, String>,
    /// Each file the series touches, with the blob it has after the last
    /// patch (`None`: deleted).
    pub after: BTreeMap<String, Option<String>>,
    /// Files named by a patch without a blob (a plain diff, not made by
    /// git): the series cannot be placed by its blobs alone.
    pub unnamed: Vec<String>,
    /// Every path the patches' diffs name, plain diffs' included.
    pub files: std::collections::BTreeSet<String>,
}

impl Images {
    /// The images of patches in order.
    pub fn of(patches: &[Message]) -> Images {
        let mut images = Images::default();
        for p in patches {
            images.files.extend(p.files.iter().cloned());
            let Some(diff) = &p.diff else { continue };
            for c in patchgate_mail::changes(diff) {
                if let Some(old) = &c.old_path {
                    let made_here = images.after.contains_key(old);
                    match (&c.old_blob, made_here) {
                        (Some(blob), false) => {
                            images.before.entry(old.clone()).or_insert(blob.clone());
                        }
                        (None, false) if !images.unnamed.contains(old) => {
                            images.unnamed.push(old.clone());
                        }
                        _ => {}
                    }
                    if c.new_path.as_deref() != Some(old.as_str()) {
                        images.after.insert(old.clone(), None);
                    }
                }
                if let Some(new) = &c.new_path {
                    images.after.insert(new.clone(), c.new_blob.clone());
                }
            }
        }
        images
    }

    /// Every path the series touches, before or after, sorted.
    pub fn touched(&self) -> Vec<String> {
        let mut paths: std::collections::BTreeSet<&String> = self.before.keys().collect();
        paths.extend(self.after.keys());
        paths.extend(self.unnamed.iter());
        paths.extend(self.files.iter());
        paths.into_iter().cloned().collect()
    }

    /// How many files this series needs as `earlier` leaves them, and
    /// whether none it needs is left by `earlier` in another state.
    fn built_on(&self, earlier: &Images) -> (usize, bool) {
        let mut matched = 0;
        for (path, blob) in &self.before {
            match earlier.after.get(path) {
                Some(Some(theirs)) if same_blob(blob, theirs) => matched += 1,
                Some(_) => return (matched, false),
                None => {}
            }
        }
        (matched, true)
    }
}

/// Two blob ids, either abbreviated, name the same blob.
pub fn same_blob(a: &str, b: &str) -> bool {
    let n = a.len().min(b.len());
    n >= 7 && a[..n].eq_ignore_ascii_case(&b[..n])
}

/// The parsed patch mails of a stored series, in order.
pub fn patch_messages(store: &dyn Store, detail: &SeriesDetail) -> Result<Vec<Message>, TestError> {
    let mut out = Vec::new();
    for p in &detail.patches {
        if let Some(raw) = store.raw_message(&p.message_id)? {
            out.push(patchgate_mail::parse(&raw));
        }
    }
    Ok(out)
}

/// The newest commit in the history of one of `branches` (from the
/// posting date back; else the first after it) whose files have every blob `images` names
/// before the series: the base the author made it on. `None` when the
/// series names no blob or no such commit is near.
pub fn guess_base(
    mirror: &Mirror,
    branches: &[String],
    images: &Images,
    posted: Option<i64>,
) -> Result<Option<(Oid, String)>, TestError> {
    if images.before.is_empty() || !images.unnamed.is_empty() {
        return Ok(None);
    }
    let paths: Vec<String> = images.before.keys().cloned().collect();
    let matches = |commits: &[Oid]| -> Result<Vec<Oid>, TestError> {
        let table = mirror.blobs_at(commits, &paths)?;
        Ok(commits
            .iter()
            .zip(&table)
            .filter(|(_, row)| {
                paths.iter().zip(row.iter()).all(|(path, have)| {
                    have.as_deref()
                        .is_some_and(|h| same_blob(h, &images.before[path]))
                })
            })
            .map(|(c, _)| c.clone())
            .collect())
    };
    // A day's grace for a Date: header a little behind the commit.
    let before = posted.map(|p| p + 86_400);
    for branch in branches {
        // The newest commit the author could have had.
        let commits = mirror.commits_between(branch, false, None, before, GUESS_DEPTH)?;
        if let Some(c) = matches(&commits)?.into_iter().next() {
            return Ok(Some((c, branch.clone())));
        }
    }
    // Else the first commit after the posting that has them: the series
    // was made on work that reached the branch later (a prerequisite
    // merged from elsewhere).
    if let Some(after) = before {
        for branch in branches {
            let commits = mirror.commits_between(
                branch,
                false,
                Some(after),
                Some(after + LATER_WINDOW),
                GUESS_DEPTH,
            )?;
            if let Some(c) = matches(&commits)?.into_iter().last() {
                return Ok(Some((c, branch.clone())));
            }
        }
    }
    Ok(None)
}

/// Whether the base has none of the files the series changes: a patch for
/// another project, sent to this list. Returns those files.
pub fn foreign_files(
    mirror: &Mirror,
    base: &Oid,
    images: &Images,
) -> Result<Vec<String>, TestError> {
    let mut paths: Vec<String> = images.before.keys().cloned().collect();
    paths.extend(images.unnamed.iter().cloned());
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let table = mirror.blobs_at(std::slice::from_ref(base), &paths)?;
    let row = table.into_iter().next().unwrap_or_default();
    if row.iter().all(Option::is_none) {
        Ok(paths)
    } else {
        Ok(Vec::new())
    }
}

/// A series the one tested was built on, and why it is thought so.
#[derive(Debug, Clone)]
pub struct Prerequisite {
    pub series: SeriesRecord,
    pub detail: SeriesDetail,
    pub images: Images,
    pub why: String,
}

/// The series `detail` was posted on top of, if any: one its cover letter
/// names (`Based-on: <Message-ID>`, b4's `prerequisite-change-id:` and
/// `prerequisite-patch-id:`), else
/// the earlier series by the same author whose patches leave the blobs
/// this one starts from (the most files matched, then the newest).
pub fn prerequisite(
    store: &dyn Store,
    detail: &SeriesDetail,
    images: &Images,
) -> Result<Option<Prerequisite>, TestError> {
    let me = &detail.series;
    // Named in the cover letter.
    if let Some(cover) = &detail.cover {
        if let Some(raw) = store.raw_message(&cover.message_id)? {
            let text = patchgate_mail::parse(&raw).body;
            for named in named_prerequisites(&text) {
                let found = match &named {
                    Named::Patch(pid) => series_with_patch_id(store, me, pid)?,
                    Named::BasedOn(id) => store.find_series(id)?,
                    Named::Change(change, version) => store
                        .list_series(&SeriesFilter::default())?
                        .into_iter()
                        .filter(|s| s.change_id.as_deref() == Some(change.as_str()))
                        .filter(|s| version.is_none_or(|v| s.version == v))
                        .max_by_key(|s| s.version)
                        .map(|s| s.id),
                };
                let Some(id) = found.filter(|&id| id != me.id) else {
                    continue;
                };
                if let Some(d) = store.series_detail(id)? {
                    let theirs = Images::of(&patch_messages(store, &d)?);
                    return Ok(Some(Prerequisite {
                        series: d.series.clone(),
                        detail: d,
                        images: theirs,
                        why: format!("its cover letter names it ({})", named.describe()),
                    }));
                }
            }
        }
    }
    if images.before.is_empty() {
        return Ok(None);
    }
    let Some(posted) = me.date else {
        return Ok(None);
    };
    let mut best: Option<(usize, i64, Prerequisite)> = None;
    for s in store.list_series(&SeriesFilter::default())? {
        let earlier = s
            .date
            .is_some_and(|t| t <= posted && t >= posted - PREREQUISITE_WINDOW);
        if s.id == me.id
            || s.topic == me.topic
            || !s.complete
            || !earlier
            || !s.author.email.eq_ignore_ascii_case(&me.author.email)
        {
            continue;
        }
        let Some(d) = store.series_detail(s.id)? else {
            continue;
        };
        let theirs = Images::of(&patch_messages(store, &d)?);
        let (matched, consistent) = images.built_on(&theirs);
        if matched == 0 || !consistent {
            continue;
        }
        let when = s.date.unwrap_or(0);
        if best
            .as_ref()
            .is_none_or(|(m, t, _)| (matched, when) > (*m, *t))
        {
            let why = format!(
                "its patches start from the blobs that series leaves in {}",
                plural_files(matched)
            );
            best = Some((
                matched,
                when,
                Prerequisite {
                    series: s,
                    detail: d,
                    images: theirs,
                    why,
                },
            ));
        }
    }
    Ok(best.map(|(_, _, p)| p))
}

fn plural_files(n: usize) -> String {
    if n == 1 {
        "1 file".to_string()
    } else {
        format!("{n} files")
    }
}

/// The series posted before `me` (within the window) that holds a patch
/// whose `git patch-id --stable` is `pid`.
fn series_with_patch_id(
    store: &dyn Store,
    me: &SeriesRecord,
    pid: &str,
) -> Result<Option<i64>, TestError> {
    let Some(posted) = me.date else {
        return Ok(None);
    };
    for s in store.list_series(&SeriesFilter::default())? {
        let earlier = s
            .date
            .is_some_and(|t| t <= posted && t >= posted - PREREQUISITE_WINDOW);
        if s.id == me.id || !earlier {
            continue;
        }
        let Some(d) = store.series_detail(s.id)? else {
            continue;
        };
        for m in patch_messages(store, &d)? {
            let Some(diff) = &m.diff else { continue };
            if patchgate_git::patch_id_stable(diff.as_bytes())?.as_deref() == Some(pid) {
                return Ok(Some(s.id));
            }
        }
    }
    Ok(None)
}

/// A prerequisite as a cover letter names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Named {
    BasedOn(String),
    Change(String, Option<u32>),
    Patch(String),
}

impl Named {
    fn describe(&self) -> String {
        match self {
            Named::Patch(p) => format!("prerequisite-patch-id: {p}"),
            Named::BasedOn(id) => format!("Based-on: <{id}>"),
            Named::Change(c, Some(v)) => format!("prerequisite-change-id: {c}:v{v}"),
            Named::Change(c, None) => format!("prerequisite-change-id: {c}"),
        }
    }
}

/// `Based-on: <id>` (Patchew's), `prerequisite-change-id: id:vN` and
/// `prerequisite-patch-id: <patch-id>` (b4's) lines of a cover letter,
/// unquoted ones only.
fn named_prerequisites(text: &str) -> Vec<Named> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("Based-on") {
            let id = value.trim_start_matches('<').trim_end_matches('>').trim();
            if id.contains('@') && !id.contains(char::is_whitespace) {
                out.push(Named::BasedOn(id.to_string()));
            }
        } else if name.eq_ignore_ascii_case("prerequisite-patch-id") {
            if value.len() == 40 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
                out.push(Named::Patch(value.to_ascii_lowercase()));
            }
        } else if name.eq_ignore_ascii_case("prerequisite-change-id") {
            let (change, version) = match value.rsplit_once(":v") {
                Some((c, v)) => (c, v.parse().ok()),
                None => (value, None),
            };
            if !change.is_empty() && !change.contains(char::is_whitespace) {
                out.push(Named::Change(change.to_string(), version));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(diff: &str) -> Message {
        let raw = format!(
            "From: A <a@x.org>\nSubject: [PATCH] x\nMessage-ID: <{}@x>\nDate: Mon, 1 Aug 2022 10:00:00 +0000\n\nx\n---\n{diff}",
            diff.len()
        );
        patchgate_mail::parse(raw.as_bytes())
    }

    const A: &str = "diff --git a/a.c b/a.c\nindex 1111111..2222222 100644\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-x\n+y\n";
    const A2: &str = "diff --git a/a.c b/a.c\nindex 2222222..3333333 100644\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-y\n+z\n";
    const B: &str = "diff --git a/b.c b/b.c\nnew file mode 100644\nindex 0000000..4444444\n--- /dev/null\n+++ b/b.c\n@@ -0,0 +1 @@\n+b\n";

    #[test]
    fn images_take_the_first_before_and_the_last_after() {
        let i = Images::of(&[patch(A), patch(A2), patch(B)]);
        assert_eq!(i.before.get("a.c").map(String::as_str), Some("1111111"));
        assert_eq!(i.after.get("a.c"), Some(&Some("3333333".to_string())));
        assert_eq!(i.after.get("b.c"), Some(&Some("4444444".to_string())));
        assert!(!i.before.contains_key("b.c"), "a new file has no before");
    }

    #[test]
    fn a_series_is_built_on_the_one_whose_after_is_its_before() {
        let first = Images::of(&[patch(A)]);
        let second = Images::of(&[patch(A2)]);
        assert_eq!(second.built_on(&first), (1, true));
        assert_eq!(
            first.built_on(&second),
            (0, false),
            "a.c is left in another state"
        );
        assert!(same_blob("2222222", "2222222abcdef"));
        assert!(!same_blob("222", "222"), "too short to say");
    }

    #[test]
    fn cover_letters_name_prerequisites() {
        let text = "Hi,\n\nBased-on: <20220101.1-1-a@x.org>\nprerequisite-change-id: 20220101-topic-abc:v3\nprerequisite-patch-id: 0123456789ABCDEF0123456789abcdef01234567\n> Based-on: <quoted@x>\n";
        assert_eq!(
            named_prerequisites(text),
            vec![
                Named::BasedOn("20220101.1-1-a@x.org".into()),
                Named::Change("20220101-topic-abc".into(), Some(3)),
                Named::Patch("0123456789abcdef0123456789abcdef01234567".into()),
            ]
        );
    }
}
