//! Which posted mails (cover letters and patches) form one series.
//!
//! The rules, in the order they are tried for each post:
//!
//! 1. A post answering another post (`In-Reply-To`, else the newest
//!    `References` entry that is a post) joins that post's series when it
//!    fits: same author, same `N`, same version, same stable branch
//!    (`[PATCH 5.10 1/2]`), and its index still free.
//!    This covers cover-letter threading, git send-email's default (every
//!    patch under 1/N) and deep threading (each patch under the previous).
//! 2. A post answering a message that is not a post (absent from the input,
//!    or a discussion mail) joins the series of the other posts answering
//!    the same message, with the same fit test. This keeps a series whose
//!    cover letter was lost together.
//! 3. A post answering nothing is grouped with other unthreaded posts of the
//!    same author, version, `N` and stable branch sent within an hour of the
//!    previous one, as long as its index is still free (patchwork's marker
//!    grouping).
//! 4. Once every post is placed, a series that rules 1 and 2 could not
//!    place, threaded directly under the root of another series (its cover
//!    letter, else the patch that started it: git send-email threads every
//!    patch under 1/N when there is no cover) or under the same absent
//!    message as an earlier series, joins that series when it was sent
//!    within `MARKER_WINDOW` of the root and its indices are places of that
//!    series' `1..=N` still empty,
//!    whatever its sender, `N` or version say (but never across stable
//!    branches). These are siblings of one posting: `format-patch` files
//!    sent as they are by someone other than their author (the cover is the
//!    sender's, each patch keeps its author's `From:`), a From: the list
//!    rewrote for DMARC on some mails only, a patch file left over from the
//!    previous version (`[PATCH v2 3/4]` under a v3 cover) or from before a
//!    renumbering (`3/5` under a `0/4`). It runs after the others so a post
//!    that fits by rules 1 and 2 always keeps its place: a stranger's post
//!    can fill a gap in a posting, never displace one of its own patches
//!    nor add one beyond its `N`.
//!    The time limit keeps a later reroll of one patch, posted under the
//!    old root, apart.
//!
//! A cover letter only ever starts a series (except under rule 3), and an
//! unnumbered patch is always a series of its own. When an index is already
//! taken the post starts a new series: that is how unlabeled resends and
//! duplicate postings separate from the original.
//!
//! Posts are visited like a mail server would have received them, by date,
//! but never before the post they answer, so the "first one wins" choices
//! above depend only on the set of mails, not their input order; rule 4
//! visits the series in the order they were opened.

use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use patchgate_mail::Kind;

use crate::index::{same_author, stable_branch, Table};

/// How far apart (seconds) two unthreaded posts of one series may be sent.
pub(crate) const MARKER_WINDOW: i64 = 3600;

/// One series before its fields are derived: which mails it holds.
#[derive(Debug)]
pub(crate) struct Group {
    pub cover: Option<usize>,
    /// Patch index to mail.
    pub patches: BTreeMap<u32, usize>,
    /// The mail that started the group; its version and `N` are the group's.
    pub head: usize,
    pub version: u32,
    /// `N` of `i/N`, when any member stated one.
    pub total: Option<u32>,
    /// A single unnumbered patch: nothing may join it.
    closed: bool,
    /// Latest date among the members that came unthreaded (rule 3 measures
    /// its window from the previous unthreaded post, and only those share a
    /// relation key), kept so the window test costs O(1).
    last_date: Option<i64>,
}

/// What a mail is to series assembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Cover,
    Numbered(u32),
    Single,
}

/// The role of a mail, or `None` for anything that is not a post (replies,
/// discussion, pull requests, unusable bytes). A `Re:` subject wins over a
/// diff: replies never become patches.
fn role(table: &Table, i: usize) -> Option<Role> {
    role_of(table.mails[i])
}

/// [`role`] of one mail, without the table.
pub(crate) fn role_of(m: &crate::Mail) -> Option<Role> {
    if m.prefix.reply {
        return None;
    }
    match m.kind {
        Kind::Cover => Some(Role::Cover),
        Kind::Patch => match m.prefix.index {
            Some(0) => Some(Role::Cover),
            Some(n) => Some(Role::Numbered(n)),
            None => Some(Role::Single),
        },
        _ => None,
    }
}

/// What a post hangs under in its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor<'a> {
    Post(usize),
    Phantom(&'a str),
    Unthreaded,
}

/// Group every post of the table.
pub(crate) fn group(table: &Table) -> Vec<Group> {
    let roles: Vec<Option<Role>> = (0..table.len()).map(|i| role(table, i)).collect();
    let mut anchors: Vec<Anchor> = (0..table.len()).map(|i| anchor(table, &roles, i)).collect();
    break_cycles(table, &mut anchors);

    let mut children: Vec<Vec<usize>> = vec![Vec::new(); table.len()];
    let mut heap = BinaryHeap::new();
    for (i, a) in anchors.iter().enumerate() {
        if roles[i].is_none() {
            continue;
        }
        match a {
            Anchor::Post(p) => children[*p].push(i),
            _ => heap.push(Reverse(table.time_key(i))),
        }
    }

    let mut grouper = Grouper {
        table,
        groups: Vec::new(),
        group_of: vec![usize::MAX; table.len()],
        phantoms: HashMap::new(),
        markers: HashMap::new(),
    };
    while let Some(Reverse((_, i))) = heap.pop() {
        if let Some(r) = roles[i] {
            grouper.place(i, r, anchors[i]);
        }
        for &c in &children[i] {
            heap.push(Reverse(table.time_key(c)));
        }
    }
    join_siblings(table, grouper.groups, &anchors)
}

/// Rule 4: series that answer the root of another series (its cover, else
/// its first post), or the same absent message as an earlier series, join
/// it when they were sent with it.
fn join_siblings(table: &Table, mut groups: Vec<Group>, anchors: &[Anchor]) -> Vec<Group> {
    let series_of_root: HashMap<usize, usize> = groups
        .iter()
        .enumerate()
        .filter(|(_, group)| !group.closed)
        .map(|(g, group)| (group.cover.unwrap_or(group.head), g))
        .collect();
    let mut first_under: HashMap<&str, usize> = HashMap::new();
    // Where each series went; a root whose series joined another one
    // leads there.
    let mut joined: Vec<Option<usize>> = vec![None; groups.len()];
    for g in 0..groups.len() {
        let group = &groups[g];
        if group.cover.is_some() || group.closed {
            continue;
        }
        // Target and the mail whose date the sibling must be close to.
        let target = match anchors[group.head] {
            Anchor::Post(p) => series_of_root.get(&p).map(|&t| (t, p)),
            Anchor::Phantom(id) => match first_under.entry(id) {
                Entry::Vacant(e) => {
                    e.insert(g);
                    None
                }
                Entry::Occupied(e) => Some((*e.get(), groups[*e.get()].head)),
            },
            Anchor::Unthreaded => None,
        };
        let Some((mut t, anchor_mail)) = target else {
            continue;
        };
        while let Some(next) = joined[t] {
            t = next;
        }
        let into = &groups[t];
        let together = match (table.mails[group.head].date, table.mails[anchor_mail].date) {
            (Some(a), Some(b)) => a.abs_diff(b) <= MARKER_WINDOW.unsigned_abs(),
            _ => false,
        };
        // Only places the posting left empty: a sibling never makes it
        // longer than its `N` says.
        let free = group.patches.keys().all(|n| {
            into.total.is_some_and(|total| (1..=total).contains(n)) && !into.patches.contains_key(n)
        });
        let branch = |g: &Group| stable_branch(&table.mails[g.head].prefix.tags);
        if t == g || into.closed || !together || !free || branch(group) != branch(into) {
            continue;
        }
        let patches = std::mem::take(&mut groups[g].patches);
        let total = groups[g].total;
        let into = &mut groups[t];
        into.patches.extend(patches);
        into.total = into.total.or(total);
        joined[g] = Some(t);
    }
    groups
        .into_iter()
        .zip(joined)
        .filter_map(|(group, joined)| joined.is_none().then_some(group))
        .collect()
}

/// The nearest post a mail answers; else the message it answers directly,
/// standing in for a post we do not have; else nothing.
fn anchor<'a>(table: &Table<'a>, roles: &[Option<Role>], i: usize) -> Anchor<'a> {
    let mut first = None;
    for id in table.answered(i) {
        if first.is_none() {
            first = Some(id);
        }
        if let Some(j) = table.lookup(id) {
            if roles[j].is_some() {
                return Anchor::Post(j);
            }
        }
    }
    first.map_or(Anchor::Unthreaded, Anchor::Phantom)
}

/// Broken or hostile headers can make posts answer each other in a circle.
/// Each circle loses the link of its earliest post, which then counts as
/// unthreaded; the choice depends on the circle alone, not on input order.
fn break_cycles(table: &Table, anchors: &mut [Anchor]) {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; anchors.len()];
    let mut path = Vec::new();
    for start in 0..anchors.len() {
        let mut at = start;
        let mut closed_circle = false;
        path.clear();
        while state[at] == NEW {
            state[at] = ON_PATH;
            path.push(at);
            match anchors[at] {
                Anchor::Post(p) => {
                    at = p;
                    closed_circle = state[at] == ON_PATH;
                }
                _ => break,
            }
        }
        if closed_circle {
            if let Some(pos) = path.iter().position(|&n| n == at) {
                let cycle = &path[pos..];
                if let Some(&victim) = cycle.iter().min_by_key(|&&n| table.time_key(n)) {
                    anchors[victim] = Anchor::Unthreaded;
                }
            }
        }
        for &n in &path {
            state[n] = DONE;
        }
    }
}

/// What rule 3 groups unthreaded posts by: author address, version, `N`
/// and stable branch.
type MarkerKey = (String, u32, Option<u32>, Option<String>);

struct Grouper<'t, 'a> {
    table: &'t Table<'a>,
    groups: Vec<Group>,
    group_of: Vec<usize>,
    /// Latest series under each missing (or non-post) parent.
    phantoms: HashMap<&'a str, usize>,
    /// Latest unthreaded series per (author, version, N, stable branch).
    markers: HashMap<MarkerKey, usize>,
}

impl<'a> Grouper<'_, 'a> {
    fn place(&mut self, i: usize, role: Role, anchor: Anchor<'a>) {
        let g = match (role, anchor) {
            (Role::Single, _) => None,
            (Role::Cover, Anchor::Post(_) | Anchor::Phantom(_)) => None,
            (Role::Numbered(_), Anchor::Post(p)) => {
                let g = self.group_of[p];
                (g != usize::MAX && self.fits(g, i, role, Some(p))).then_some(g)
            }
            (Role::Numbered(_), Anchor::Phantom(id)) => self
                .phantoms
                .get(id)
                .copied()
                .filter(|&g| self.fits(g, i, role, None)),
            (_, Anchor::Unthreaded) => self.marker_group(i, role),
        };
        let g = match g {
            Some(g) => g,
            None => self.open(i, role),
        };
        self.join(g, i, role);
        // A single patch or a cover answering elsewhere is never a place
        // for others to join, so it must not shadow the latest open series.
        match anchor {
            _ if role == Role::Single => {}
            Anchor::Phantom(id) if role != Role::Cover => {
                self.phantoms.insert(id, g);
            }
            Anchor::Unthreaded => {
                let date = self.table.mails[i].date;
                let group = &mut self.groups[g];
                group.last_date = group.last_date.max(date);
                self.markers.insert(self.marker_key(i), g);
            }
            _ => {}
        }
    }

    fn marker_key(&self, i: usize) -> MarkerKey {
        let m = self.table.mails[i];
        (
            m.from.email.to_ascii_lowercase(),
            m.prefix.version,
            m.prefix.total,
            stable_branch(&m.prefix.tags),
        )
    }

    fn marker_group(&self, i: usize, role: Role) -> Option<usize> {
        let g = *self.markers.get(&self.marker_key(i))?;
        let date = self.table.mails[i].date?;
        let last = self.groups[g].last_date?;
        let close = date.abs_diff(last) <= MARKER_WINDOW.unsigned_abs();
        (close && self.fits(g, i, role, None)).then_some(g)
    }

    /// May post `i` join group `g`? `parent` is the post it answers directly.
    fn fits(&self, g: usize, i: usize, role: Role, parent: Option<usize>) -> bool {
        let group = &self.groups[g];
        let m = self.table.mails[i];
        let head = self.table.mails[group.head];
        if group.closed
            || !same_author(&m.from, &head.from)
            || stable_branch(&m.prefix.tags) != stable_branch(&head.prefix.tags)
        {
            return false;
        }
        let free = match role {
            Role::Cover => group.cover.is_none(),
            Role::Numbered(n) => !group.patches.contains_key(&n),
            Role::Single => false,
        };
        let total_ok = match (m.prefix.total, group.total) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        // Patches without a version label right under a labeled cover letter
        // belong to it (a real netdev posting does this; patchwork agrees).
        let unlabeled_under_cover =
            m.prefix.version == 1 && parent.is_some() && parent == group.cover;
        let version_ok = m.prefix.version == group.version || unlabeled_under_cover;
        free && total_ok && version_ok
    }

    fn open(&mut self, i: usize, role: Role) -> usize {
        let m = self.table.mails[i];
        self.groups.push(Group {
            cover: None,
            patches: BTreeMap::new(),
            head: i,
            version: m.prefix.version,
            total: m.prefix.total,
            closed: role == Role::Single,
            last_date: None,
        });
        self.groups.len() - 1
    }

    fn join(&mut self, g: usize, i: usize, role: Role) {
        let group = &mut self.groups[g];
        match role {
            Role::Cover => group.cover = Some(i),
            Role::Numbered(n) => {
                group.patches.insert(n, i);
            }
            Role::Single => {
                group.patches.insert(1, i);
            }
        }
        let m = self.table.mails[i];
        if group.total.is_none() {
            group.total = m.prefix.total;
        }
        self.group_of[i] = g;
    }
}

impl Group {
    /// Every mail of the group: cover first, then patches by index.
    pub fn members(&self) -> impl Iterator<Item = usize> + '_ {
        self.cover.iter().chain(self.patches.values()).copied()
    }
}
