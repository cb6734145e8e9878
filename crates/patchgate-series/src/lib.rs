//! Messages to series, topics (v1 → v2 → v3) and collected trailers.
//!
//! Input is the small per-mail summary [`Mail`] (no bodies, no diffs), so a
//! store can hold many thousands of them in memory. [`assemble`] is a pure,
//! deterministic function of the *set* of mails: the order they arrived in
//! never changes its answer.
//!
//! Invariant: no IO, no clock, no panics.
//!
//! The stages, each in its own module:
//!
//! - `index`: one mail per Message-ID (duplicate deliveries collapse, the
//!   kept copy chosen by content), sorted by id so nothing downstream can
//!   see the input order;
//! - `thread`: posts (cover letters and patches, never replies) grouped into
//!   series by threading, by a shared missing parent, or, for unthreaded
//!   mail, by author, version, `N` and time; siblings threaded under a
//!   cover letter (or patch 1) and sent with it join it whatever their
//!   sender or labels say;
//! - `build`: each group's title, author, version, completeness and tags;
//! - `trailers`: person trailers from replies collected onto the patches
//!   they answer (a cover letter's onto all of its patches);
//! - `topic`: revisions linked by change-id, by threading or by title, and
//!   the newest complete revision marked as superseding the older ones;
//! - `keys`: the keys under which a store finds every mail that can affect
//!   a given one, for assembling part of an archive ([`relation_keys`]).
//!
//! Where patchwork and b4 disagree, patchwork's grouping of posts into
//! series is followed (its test fixtures pass unchanged), and b4's view of
//! revisions (change-id) and of follow-up trailers is followed.

use patchgate_mail::{Kind, Message, Person, Subject, Trailer};
use serde::{Deserialize, Serialize};

mod build;
mod index;
mod keys;
mod thread;
mod topic;
mod trailers;

pub use keys::{
    decode_relation_keys, encode_relation_keys, hashed_relation_keys, normalize_title,
    relation_key_hash, relation_keys,
};

use index::Table;
use trailers::Member;

/// What assembly needs to know of one mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub from: Person,
    pub date: Option<i64>,
    pub prefix: Subject,
    pub kind: Kind,
    /// The mail's own unquoted trailers.
    pub trailers: Vec<Trailer>,
    pub base_commit: Option<String>,
    pub change_id: Option<String>,
    /// A patch's author when the in-body `From:` names someone other than
    /// the sender (a maintainer posting another's patch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
}

impl From<&Message> for Mail {
    fn from(m: &Message) -> Self {
        Mail {
            id: m.id.clone(),
            in_reply_to: m.in_reply_to.clone(),
            references: m.references.clone(),
            from: m.from.clone(),
            date: m.date,
            prefix: m.prefix.clone(),
            kind: m.kind,
            trailers: m.trailers.clone(),
            base_commit: m.base_commit.clone(),
            change_id: m.change_id.clone(),
            author: Some(m.author()).filter(|a| a.email != m.from.email),
        }
    }
}

impl Mail {
    /// The patch's author as `git am` records it.
    pub fn author(&self) -> &Person {
        self.author.as_ref().unwrap_or(&self.from)
    }
}

/// A trailer given in a reply, with the reply that gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collected {
    pub trailer: Trailer,
    /// Message-ID of the reply that carried it.
    pub from_message: String,
    /// Who sent that reply (the poster behind a list's DMARC rewrite). A
    /// review counts only when this is the person the trailer names.
    #[serde(default)]
    pub sender: Person,
}

/// One patch of a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesPatch {
    /// 1-based position (`2` of `2/5`); 1 for an unnumbered single patch.
    pub index: u32,
    pub message_id: String,
    /// Trailers from replies to this patch, and from replies to the cover
    /// letter (which apply to every patch), deduplicated, in date order.
    pub collected: Vec<Collected>,
}

/// One posted revision: cover letter (optional) plus patches 1..N.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// Stable key: the cover letter's Message-ID, else the lowest patch's.
    pub key: String,
    pub cover: Option<String>,
    /// Sorted by index; one entry per index present.
    pub patches: Vec<SeriesPatch>,
    pub version: u32,
    /// N of `i/N` (1 for a single unnumbered patch).
    pub total: u32,
    /// Title of the cover letter, else of the first patch.
    pub title: String,
    pub author: Person,
    /// Earliest `Date:` among the series' mails, Unix seconds.
    pub date: Option<i64>,
    /// All of 1..=total are present.
    pub complete: bool,
    /// Indices of 1..=total that are absent.
    pub missing: Vec<u32>,
    /// Prefix tags (`kvm-unit-tests`, `RFC`, `RESEND`).
    pub tags: Vec<String>,
    pub base_commit: Option<String>,
    pub change_id: Option<String>,
    /// Key of the [`Topic`] this revision belongs to.
    pub topic: String,
    /// Key of the newer complete revision of the same topic, if any.
    pub superseded_by: Option<String>,
}

/// The chain of revisions of one piece of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    /// Stable key: the key of its oldest revision.
    pub key: String,
    /// Series keys, oldest revision first.
    pub series: Vec<String>,
}

/// The answer of [`assemble`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assembly {
    /// Sorted by key.
    pub series: Vec<Series>,
    /// Sorted by key.
    pub topics: Vec<Topic>,
}

/// Group mails into series and topics, and collect reply trailers.
///
/// The rules are documented where they live: series grouping in `thread`,
/// reply trailers in `trailers`, revisions and supersession in `topic`.
pub fn assemble(mails: &[Mail]) -> Assembly {
    let table = Table::new(mails);
    let groups = thread::group(&table);
    let mut series: Vec<Series> = groups.iter().map(|g| build::series(&table, g)).collect();

    let mut members: Vec<Option<Member>> = vec![None; table.len()];
    for (s, g) in groups.iter().enumerate() {
        if let Some(c) = g.cover {
            members[c] = Some(Member::Cover(s));
        }
        for (pos, &i) in g.patches.values().enumerate() {
            members[i] = Some(Member::Patch(s, pos));
        }
    }
    let targets = trailers::targets(&table, &members);
    trailers::collect(&table, &members, &targets, &mut series);
    let mut topics = topic::link(&table, &members, &targets, &mut series);

    series.sort_by(|a, b| a.key.cmp(&b.key));
    topics.sort_by(|a, b| a.key.cmp(&b.key));
    Assembly { series, topics }
}
