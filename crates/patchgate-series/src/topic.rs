//! Revisions of one piece of work linked into a [`Topic`], and which
//! revision supersedes which.
//!
//! Two series are revisions of one topic when any of these holds:
//!
//! - they carry the same b4 `change-id:`;
//! - the newer one's cover letter (else first patch) answers a mail of the
//!   older one (its posts or the replies under them), and it has a higher
//!   version, or the same version, the same author and the same title (an
//!   unlabeled resend);
//! - the same author posted both under the same title (case and whitespace
//!   folded), with different versions, or one of them marked `RESEND`.
//!
//! Never across stable branches: `[PATCH 5.10]` and `[PATCH 5.15]` of one
//! change are backports to two trees, both wanted, and neither supersedes
//! the other.
//!
//! Revisions are ordered by version, then date; the newest *complete* one
//! supersedes every older revision of its topic.

use std::collections::HashMap;

use crate::index::{same_author, stable_branch, Table};
use crate::trailers::Member;
use crate::{Series, Topic};

/// Fill `topic` and `superseded_by` of every series and return the topics.
pub(crate) fn link(
    table: &Table,
    members: &[Option<Member>],
    targets: &[Option<usize>],
    series: &mut [Series],
) -> Vec<Topic> {
    let mut sets = DisjointSets::new(series.len());

    let branches: Vec<Option<String>> = series.iter().map(|x| stable_branch(&x.tags)).collect();

    let mut by_change_id: HashMap<(&str, &Option<String>), usize> = HashMap::new();
    for (s, x) in series.iter().enumerate() {
        if let Some(cid) = x.change_id.as_deref().filter(|c| !c.is_empty()) {
            let first = *by_change_id.entry((cid, &branches[s])).or_insert(s);
            sets.union(first, s);
        }
    }

    for s in 0..series.len() {
        if let Some(t) = answered_series(table, members, targets, &series[s]) {
            if t != s && branches[s] == branches[t] && threaded_revision(&series[s], &series[t]) {
                sets.union(s, t);
            }
        }
    }

    let mut by_title: HashMap<(String, String, &Option<String>), Vec<usize>> = HashMap::new();
    for (s, x) in series.iter().enumerate() {
        let title = normalize(&x.title);
        if !title.is_empty() && !x.author.email.is_empty() {
            let key = (x.author.email.to_ascii_lowercase(), title, &branches[s]);
            by_title.entry(key).or_default().push(s);
        }
    }
    for same in by_title.values() {
        let Some(&first) = same.first() else { continue };
        let versions_differ = same
            .iter()
            .any(|&s| series[s].version != series[first].version);
        for &s in same {
            if versions_differ || is_resend(&series[s]) {
                sets.union(first, s);
            }
        }
    }

    let mut members_of: HashMap<usize, Vec<usize>> = HashMap::new();
    for s in 0..series.len() {
        members_of.entry(sets.find(s)).or_default().push(s);
    }
    let mut topics = Vec::with_capacity(members_of.len());
    for (_, mut revs) in members_of {
        revs.sort_by(|&a, &b| age(&series[a]).cmp(&age(&series[b])));
        let Some(&oldest) = revs.first() else {
            continue;
        };
        let key = series[oldest].key.clone();
        let newest_complete = revs.iter().rposition(|&s| series[s].complete);
        let newest_key = newest_complete.map(|np| series[revs[np]].key.clone());
        for (pos, &s) in revs.iter().enumerate() {
            series[s].topic = key.clone();
            series[s].superseded_by = newest_complete
                .filter(|&np| np > pos)
                .and(newest_key.clone());
        }
        topics.push(Topic {
            key,
            series: revs.iter().map(|&s| series[s].key.clone()).collect(),
        });
    }
    topics
}

/// Revision order: version, then first date, then key for a total order.
fn age(s: &Series) -> (u32, Option<i64>, &str) {
    (s.version, s.date, &s.key)
}

fn is_resend(s: &Series) -> bool {
    s.tags.iter().any(|t| t.eq_ignore_ascii_case("RESEND"))
}

/// A series answering series `older` is its revision when it says so by
/// version, or is the same author's resend of the same work. A different
/// author's equal-version series in the thread is a follow-up, not a
/// revision.
fn threaded_revision(newer: &Series, older: &Series) -> bool {
    match newer.version.cmp(&older.version) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => {
            same_author(&newer.author, &older.author)
                && (normalize(&newer.title) == normalize(&older.title) || is_resend(newer))
        }
        std::cmp::Ordering::Less => false,
    }
}

/// The series whose mail this series' head (cover, else first patch)
/// answers, nearest first.
fn answered_series(
    table: &Table,
    members: &[Option<Member>],
    targets: &[Option<usize>],
    s: &Series,
) -> Option<usize> {
    let head = table.lookup(&s.key)?;
    let own = members[head].map(Member::series);
    table.answered(head).find_map(|id| {
        let j = table.lookup(id)?;
        let m = members[j].or_else(|| targets[j].and_then(|t| members[t]))?;
        Some(m.series()).filter(|&t| Some(t) != own)
    })
}

/// Titles compare case- and whitespace-insensitively.
pub(crate) fn normalize(title: &str) -> String {
    title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Union-find with path halving; unions keep the smaller index as root so
/// the structure is deterministic.
#[derive(Debug)]
struct DisjointSets {
    parent: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> Self {
        DisjointSets {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[hi] = lo;
    }
}
