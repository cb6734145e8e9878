//! Reconciling stored series and topics with a fresh assembly, as a plan.
//!
//! Assembly is recomputed from mails and knows series only by keys
//! (Message-IDs), which change when, say, a cover letter arrives after its
//! patches. The store gives each series a stable integer id instead, by
//! matching on shared members:
//!
//! - every (assembled series, stored series) pair that shares member mails
//!   (cover letter or patches) is a candidate; pairs are taken greedily by
//!   most mails shared, then oldest stored id, then assembly order, each
//!   side at most once. A matched series keeps its id and gets the new
//!   fields; an unmatched assembled series is created (`ingested`);
//! - a stored series left unmatched is no longer produced: its mails now
//!   belong to other series or to none. It is *merged away*: marked not
//!   live, `merged_into` the series that now holds its key mail (else most
//!   of its mails), an `absorbed` event records it, and its old id and
//!   Message-IDs still resolve to the survivor;
//! - topics are matched the same way, by the stored topics of their
//!   matched series.
//!
//! Change detection compares the assembled series' JSON with the snapshot
//! stored at the last apply, plus the mapped topic and superseded-by ids, so
//! planning the same assembly against what its plan stored plans nothing.
//!
//! [`plan()`] decides; a backend loads the [`StoredView`] and persists the
//! [`Plan`] in order, creating the new topics and series first and then
//! naming their ids ([`Ids`]) to resolve the references to them.

use crate::detail::{self, Detail};
use crate::event::{Event, EventKind, State};
use patchgate_series::{Assembly, Series};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

/// Who the reconcile's events are by.
pub const ACTOR: &str = "assembly";

/// A live stored series, as far as reconciling needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSeries {
    pub topic_id: i64,
    pub superseded_by: Option<i64>,
    /// The assembled series' JSON as of the last apply ([`SeriesWrite::snapshot`]).
    pub snapshot: String,
    /// Its state; `None` when the stored name is not one this version knows.
    pub state: Option<State>,
}

/// What a backend loads for the part of the archive being reconciled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredView {
    /// The live stored series considered, by id: every one for a whole
    /// archive, else those holding a mail of the scope.
    pub series: BTreeMap<i64, StoredSeries>,
    /// Which considered series each of their member mails belongs to.
    pub member_of: HashMap<String, i64>,
    /// The live topics that may be retired: every live topic for a whole
    /// archive, else the live topics of the considered series.
    pub live_topics: BTreeSet<i64>,
}

/// A series, stored or to be created by this plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeriesRef {
    Stored(i64),
    /// The `n`th of [`Plan::new_series`].
    New(usize),
}

/// A topic, stored or to be created by this plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TopicRef {
    Stored(i64),
    /// The `n`th of the topics [`TopicWrite::Create`]d, in plan order.
    New(usize),
}

/// The ids a backend gave what the plan creates, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids {
    pub topics: Vec<i64>,
    pub series: Vec<i64>,
}

impl Ids {
    /// The id of a series; a `New` the backend did not create reads as 0,
    /// which no row has.
    pub fn series(&self, r: SeriesRef) -> i64 {
        match r {
            SeriesRef::Stored(id) => id,
            SeriesRef::New(n) => self.series.get(n).copied().unwrap_or(0),
        }
    }

    pub fn topic(&self, r: TopicRef) -> i64 {
        match r {
            TopicRef::Stored(id) => id,
            TopicRef::New(n) => self.topics.get(n).copied().unwrap_or(0),
        }
    }
}

/// One topic of the assembly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicWrite {
    /// A stored topic, now keyed `key` (unchanged when it already is).
    Keep { id: i64, key: String },
    /// A topic seen for the first time.
    Create { key: String },
}

/// A new series: created before any field is written, since
/// `superseded_by` may point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSeries {
    /// Index into the assembly's series.
    pub series: usize,
    pub topic: TopicRef,
}

/// An event the plan records, with the series it names still references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedEvent {
    Ingested(detail::Ingested),
    Updated(detail::Updated),
    Superseded { by: SeriesRef },
    Reopened(detail::Reopened),
}

impl PlannedEvent {
    pub fn kind(&self) -> EventKind {
        match self {
            PlannedEvent::Ingested(_) => EventKind::Ingested,
            PlannedEvent::Updated(_) => EventKind::Updated,
            PlannedEvent::Superseded { .. } => EventKind::Superseded,
            PlannedEvent::Reopened(_) => EventKind::Reopened,
        }
    }

    pub fn event(&self, ids: &Ids, at: i64) -> Event {
        match self {
            PlannedEvent::Ingested(d) => d.event(at, ACTOR),
            PlannedEvent::Updated(d) => d.event(at, ACTOR),
            PlannedEvent::Superseded { by } => detail::Superseded {
                by: Some(ids.series(*by)),
            }
            .event(at, ACTOR),
            PlannedEvent::Reopened(d) => d.event(at, ACTOR),
        }
    }
}

/// A series whose fields and members are written anew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesWrite {
    pub id: SeriesRef,
    /// Index into the assembly's series.
    pub series: usize,
    pub topic: TopicRef,
    pub superseded_by: Option<SeriesRef>,
    /// The assembled series' JSON, stored for the next change detection.
    pub snapshot: String,
    /// Appended in order after the write.
    pub events: Vec<PlannedEvent>,
}

/// A stored series no longer produced, merged away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absorb {
    pub id: i64,
    /// Its heir: the series now holding its key mail, else most of its mails.
    pub into: Option<SeriesRef>,
}

impl Absorb {
    pub fn event(&self, ids: &Ids, at: i64) -> Event {
        detail::Absorbed {
            into: self.into.map(|r| ids.series(r)),
        }
        .event(at, ACTOR)
    }
}

/// A live topic no assembled series belongs to any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retire {
    pub id: i64,
    /// The current topic of the first of its former series (following that
    /// series to its heir when it was merged away).
    pub into: Option<TopicRef>,
}

/// Everything a reconcile writes, in the order to write it: topics, new
/// series, then (after clearing the members of every series in `writes`
/// and `absorbed`, since mails may move between series) the writes with
/// their events, the merges with theirs, the retired topics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// One per topic of the assembly, in key order.
    pub topics: Vec<TopicWrite>,
    pub new_series: Vec<NewSeries>,
    /// In assembly order.
    pub writes: Vec<SeriesWrite>,
    /// By id.
    pub absorbed: Vec<Absorb>,
    /// By id.
    pub retired: Vec<Retire>,
    /// Series assembled exactly as stored.
    pub unchanged: usize,
}

impl Plan {
    /// Writes of series seen for the first time (`ingested`).
    pub fn created(&self) -> impl Iterator<Item = &SeriesWrite> {
        self.writes.iter().filter(|w| w.is_new())
    }

    /// Writes of series seen before (updated or superseded).
    pub fn changed(&self) -> impl Iterator<Item = &SeriesWrite> {
        self.writes.iter().filter(|w| !w.is_new())
    }

    /// Series that became superseded, new ones born superseded included.
    pub fn superseded(&self) -> usize {
        self.writes.iter().filter(|w| w.supersedes()).count()
    }

    /// Series seen before, rewritten and not superseded by this plan.
    pub fn updated(&self) -> usize {
        self.changed().filter(|w| !w.supersedes()).count()
    }
}

impl SeriesWrite {
    fn is_new(&self) -> bool {
        matches!(self.events.first(), Some(PlannedEvent::Ingested(_)))
    }

    fn supersedes(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, PlannedEvent::Superseded { .. }))
    }
}

/// Assembly put one mail into two series: no plan is made from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub message_id: String,
    /// Keys of the two series.
    pub first: String,
    pub second: String,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "message {} is in two assembled series, {} and {}",
            self.message_id, self.first, self.second
        )
    }
}

impl std::error::Error for Conflict {}

/// Member mails of a series: (Message-ID, index), the cover letter at 0.
fn members(s: &Series) -> impl Iterator<Item = (&str, u32)> {
    s.cover
        .iter()
        .map(|c| (c.as_str(), 0))
        .chain(s.patches.iter().map(|p| (p.message_id.as_str(), p.index)))
}

/// Greedy one-to-one matching of `(assembled, stored) -> shared count`.
fn assign(overlaps: HashMap<(usize, i64), usize>, n: usize) -> Vec<Option<i64>> {
    let mut pairs: Vec<((usize, i64), usize)> = overlaps.into_iter().collect();
    pairs.sort_by(|((a1, s1), c1), ((a2, s2), c2)| c2.cmp(c1).then(s1.cmp(s2)).then(a1.cmp(a2)));
    let mut out = vec![None; n];
    let mut taken = HashSet::new();
    for ((a, s), _) in pairs {
        if out[a].is_none() && !taken.contains(&s) {
            out[a] = Some(s);
            taken.insert(s);
        }
    }
    out
}

/// Which assembled series each member mail is in; refuses an assembly
/// that does not partition its mails.
fn partition(a: &Assembly) -> Result<HashMap<&str, usize>, Conflict> {
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, s) in a.series.iter().enumerate() {
        for (id, _) in members(s) {
            if let Some(j) = owner.insert(id, i) {
                if j != i {
                    return Err(Conflict {
                        message_id: id.to_string(),
                        first: a.series[j].key.clone(),
                        second: s.key.clone(),
                    });
                }
            }
        }
    }
    Ok(owner)
}

/// What reconciling `stored` with `a` writes. `a` is an assembly of the
/// mails of the part of the archive `stored` was loaded for (whole
/// connected parts), so series outside it are never taken for "no longer
/// produced".
pub fn plan(a: &Assembly, stored: &StoredView) -> Result<Plan, Conflict> {
    let owner = partition(a)?;

    // Match series on shared member mails.
    let mut overlaps: HashMap<(usize, i64), usize> = HashMap::new();
    for (i, s) in a.series.iter().enumerate() {
        for (id, _) in members(s) {
            if let Some(&sid) = stored.member_of.get(id) {
                *overlaps.entry((i, sid)).or_default() += 1;
            }
        }
    }
    let matched = assign(overlaps, a.series.len());

    // Match topics on the stored topics of their matched series.
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in a.series.iter().enumerate() {
        groups.entry(s.topic.as_str()).or_default().push(i);
    }
    let groups: Vec<(&str, Vec<usize>)> = groups.into_iter().collect();
    let mut topic_overlaps: HashMap<(usize, i64), usize> = HashMap::new();
    for (g, (_, idxs)) in groups.iter().enumerate() {
        for &i in idxs {
            if let Some(st) = matched[i].and_then(|sid| stored.series.get(&sid)) {
                *topic_overlaps.entry((g, st.topic_id)).or_default() += 1;
            }
        }
    }
    let topic_matched = assign(topic_overlaps, groups.len());
    let mut out = Plan::default();
    let mut topic_of = vec![TopicRef::New(0); a.series.len()];
    let mut live_topics = HashSet::new();
    let mut created_topics = 0;
    for (g, (key, idxs)) in groups.iter().enumerate() {
        let tid = match topic_matched[g] {
            Some(id) => {
                out.topics.push(TopicWrite::Keep {
                    id,
                    key: key.to_string(),
                });
                live_topics.insert(id);
                TopicRef::Stored(id)
            }
            None => {
                out.topics.push(TopicWrite::Create {
                    key: key.to_string(),
                });
                created_topics += 1;
                TopicRef::New(created_topics - 1)
            }
        };
        for &i in idxs {
            topic_of[i] = tid;
        }
    }

    let mut ids = Vec::with_capacity(a.series.len());
    for (i, m) in matched.iter().enumerate() {
        ids.push(match m {
            Some(id) => SeriesRef::Stored(*id),
            None => {
                out.new_series.push(NewSeries {
                    series: i,
                    topic: topic_of[i],
                });
                SeriesRef::New(out.new_series.len() - 1)
            }
        });
    }
    let id_of_key: HashMap<&str, SeriesRef> = a
        .series
        .iter()
        .zip(&ids)
        .map(|(s, &id)| (s.key.as_str(), id))
        .collect();

    for (i, s) in a.series.iter().enumerate() {
        let id = ids[i];
        // Plain fields only: serializing cannot fail.
        let snapshot = serde_json::to_string(s).unwrap_or_default();
        let superseded_by = s
            .superseded_by
            .as_deref()
            .and_then(|k| id_of_key.get(k).copied())
            .filter(|&by| by != id);
        let old = matched[i].and_then(|sid| stored.series.get(&sid));
        let mut events = Vec::new();
        match old {
            None => {
                events.push(PlannedEvent::Ingested(detail::Ingested {
                    key: Some(s.key.clone()),
                    version: Some(s.version),
                    total: Some(s.total),
                    received: Some(s.patches.len() as u64),
                    cover: Some(s.cover.is_some()),
                }));
                if let Some(by) = superseded_by {
                    // Born superseded (its newer revision came in the same
                    // batch): superseded by this apply all the same.
                    events.push(PlannedEvent::Superseded { by });
                }
            }
            Some(old) => {
                let same_topic = topic_of[i] == TopicRef::Stored(old.topic_id);
                let same_by = superseded_by == old.superseded_by.map(SeriesRef::Stored);
                if old.snapshot == snapshot && same_topic && same_by {
                    out.unchanged += 1;
                    continue;
                }
                // A damaged snapshot only costs the precision of the detail.
                let previous: Option<Series> = serde_json::from_str(&old.snapshot).ok();
                events.extend(gained(previous.as_ref(), s).map(PlannedEvent::Updated));
                let became_superseded = old.superseded_by.is_none() && superseded_by.is_some();
                if let Some(by) = superseded_by.filter(|_| became_superseded) {
                    events.push(PlannedEvent::Superseded { by });
                } else if superseded_by.is_none() && old.state == Some(State::Superseded) {
                    events.push(PlannedEvent::Reopened(detail::Reopened {
                        reason: Some("no newer revision supersedes it any more".into()),
                    }));
                }
            }
        }
        out.writes.push(SeriesWrite {
            id,
            series: i,
            topic: topic_of[i],
            superseded_by,
            snapshot,
            events,
        });
    }

    let kept: HashSet<i64> = matched.iter().flatten().copied().collect();
    let mut heirs: HashMap<i64, Option<SeriesRef>> = HashMap::new();
    for (&id, old) in stored.series.iter().filter(|(id, _)| !kept.contains(id)) {
        let into = heir(old, &owner, &ids);
        heirs.insert(id, into);
        out.absorbed.push(Absorb { id, into });
    }

    // Retire live topics no assembled series belongs to any more.
    let topic_now: HashMap<SeriesRef, TopicRef> =
        ids.iter().copied().zip(topic_of.iter().copied()).collect();
    for &tid in stored
        .live_topics
        .iter()
        .filter(|t| !live_topics.contains(t))
    {
        let into = stored
            .series
            .iter()
            .filter(|(_, s)| s.topic_id == tid)
            .find_map(|(&sid, _)| {
                let now = heirs
                    .get(&sid)
                    .copied()
                    .flatten()
                    .unwrap_or(SeriesRef::Stored(sid));
                topic_now.get(&now).copied()
            });
        out.retired.push(Retire { id: tid, into });
    }
    Ok(out)
}

/// The heir of a stored series assembly no longer produces: whoever now
/// holds its key mail, else most of its mails.
fn heir(old: &StoredSeries, owner: &HashMap<&str, usize>, ids: &[SeriesRef]) -> Option<SeriesRef> {
    let previous: Series = serde_json::from_str(&old.snapshot).ok()?;
    if let Some(&i) = owner.get(previous.key.as_str()) {
        return Some(ids[i]);
    }
    let mut votes: BTreeMap<SeriesRef, usize> = BTreeMap::new();
    for (m, _) in members(&previous) {
        if let Some(&i) = owner.get(m) {
            *votes.entry(ids[i]).or_default() += 1;
        }
    }
    votes
        .into_iter()
        .max_by(|(a, ca), (b, cb)| ca.cmp(cb).then(b.cmp(a)))
        .map(|(s, _)| s)
}

/// What a series gained or lost since its last snapshot, as an `updated`
/// event's detail; `None` when its mails and trailers are as they were.
fn gained(old: Option<&Series>, new: &Series) -> Option<detail::Updated> {
    let set = |s: Option<&Series>| -> BTreeSet<(u32, String)> {
        s.map(|s| members(s).map(|(m, i)| (i, m.to_string())).collect())
            .unwrap_or_default()
    };
    let trailers = |s: Option<&Series>| -> BTreeSet<String> {
        s.map(|s| {
            s.patches
                .iter()
                .flat_map(|p| p.collected.iter().map(move |c| (p.index, c)))
                .map(|(i, c)| {
                    format!(
                        "{i}\0{}\0{}\0{}",
                        c.trailer.name, c.trailer.value, c.from_message
                    )
                })
                .collect()
        })
        .unwrap_or_default()
    };
    let (old_m, new_m) = (set(old), set(Some(new)));
    let (old_t, new_t) = (trailers(old), trailers(Some(new)));
    if old_m == new_m && old_t == new_t {
        return None;
    }
    let idx = |a: &BTreeSet<(u32, String)>, b: &BTreeSet<(u32, String)>| -> Vec<u32> {
        a.difference(b)
            .map(|(i, _)| *i)
            .filter(|&i| i > 0)
            .collect()
    };
    let has_cover = |m: &BTreeSet<(u32, String)>| m.iter().any(|(i, _)| *i == 0);
    Some(detail::Updated {
        patches_added: Some(idx(&new_m, &old_m)),
        patches_removed: Some(idx(&old_m, &new_m)),
        cover_added: Some(has_cover(&new_m) && !has_cover(&old_m)),
        cover_removed: Some(has_cover(&old_m) && !has_cover(&new_m)),
        trailers_added: Some(new_t.difference(&old_t).count() as u64),
        trailers_removed: Some(old_t.difference(&new_t).count() as u64),
    })
}
