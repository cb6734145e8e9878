//! Values that go into and come out of the store for messages and series.
//!
//! The serialised shape of [`SeriesRecord`] and [`SeriesDetail`] is the
//! `--json` contract of `patchgate series list|show` (DESIGN.md): add fields
//! freely, rename none.

use crate::event::State;
use patchgate_mail::{Kind, Message, Person, Trailer};
use patchgate_series::{Collected, Mail};
use serde::{Deserialize, Serialize};

/// One parsed message to store, with its bytes and where it was read.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    /// The bytes exactly as read; stored verbatim.
    pub raw: &'a [u8],
    pub message: &'a Message,
    /// The source it was read from (a path, `stdin`).
    pub source: &'a str,
}

/// What one batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InsertStats {
    /// Messages stored for the first time.
    pub inserted: usize,
    /// Messages whose Message-ID was already stored (or repeated in the batch).
    pub duplicates: usize,
    /// Of the inserted: unreadable, or read with problems. Stored all the
    /// same, with the reason.
    pub unusable: usize,
    /// Their Message-IDs, in batch order.
    pub unusable_ids: Vec<String>,
}

/// A message as listed: everything but its bytes and body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageSummary {
    pub message_id: String,
    pub kind: Kind,
    pub subject: String,
    pub from: Person,
    pub date: Option<i64>,
    pub list_id: Option<String>,
    /// What was wrong with the mail; empty for a clean one.
    pub problems: Vec<String>,
    /// The source it was first read from.
    pub source: String,
    /// Size of the raw bytes.
    pub size: u64,
    /// What assembly knows of it.
    pub mail: Mail,
}

/// A message kept with the reason it is not (fully) usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnusableMessage {
    pub message_id: String,
    pub source: String,
    /// The problems, joined with `; `.
    pub reason: String,
}

/// What [`crate::Store::apply_assembly_scoped`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AssemblyChanges {
    /// Series seen for the first time.
    pub new: usize,
    /// Stored series whose record changed (members, trailers, fields),
    /// not counting those only superseded.
    pub updated: usize,
    /// Series that became superseded by a newer revision, new ones born
    /// superseded (both revisions in one batch) included.
    pub superseded: usize,
    /// Series assembled exactly as stored.
    pub unchanged: usize,
    /// Stored series no longer produced, merged into the series that now
    /// holds their mails.
    pub merged: usize,
    /// Ids of the new series, ascending.
    pub new_ids: Vec<i64>,
    /// Ids of the updated or superseded series, ascending.
    pub changed_ids: Vec<i64>,
}

/// Which series to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesFilter {
    pub state: Option<State>,
    pub topic: Option<i64>,
    pub limit: Option<usize>,
}

/// One series revision, as `patchgate series list --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesRecord {
    /// Stable: kept while the series gains mails, its cover letter included.
    pub id: i64,
    /// Id of its topic (the chain of revisions).
    pub topic: i64,
    pub version: u32,
    /// Title of the cover letter, else of the first patch, without prefix.
    pub subject: String,
    pub author: Person,
    /// The cover letter's Message-ID, else the first patch's.
    pub message_id: String,
    pub total: u32,
    /// How many of patches 1..=total arrived.
    pub received: u32,
    /// Earliest `Date:` among its mails, Unix seconds.
    pub date: Option<i64>,
    pub complete: bool,
    pub missing: Vec<u32>,
    pub tags: Vec<String>,
    /// Derived from the event log.
    pub state: State,
    /// Id of the newer revision that supersedes it.
    pub superseded_by: Option<i64>,
    pub base_commit: Option<String>,
    pub change_id: Option<String>,
    /// Set when assembly no longer produces this series because its mails
    /// now belong to another: that one's id. Such a series is not listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<i64>,
}

/// A series' cover letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverRecord {
    pub message_id: String,
    pub subject: String,
}

/// One patch of a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchRecord {
    pub index: u32,
    pub message_id: String,
    /// The patch mail's full subject.
    pub subject: String,
    /// Whom `git am` records as the author: the in-body `From:` when the
    /// patch has one, else the sender.
    pub author: Person,
    /// Who sent the patch mail (the poster behind a list's DMARC rewrite).
    #[serde(default)]
    pub sender: Person,
    /// Trailers written in the patch itself.
    pub trailers: Vec<Trailer>,
    /// Trailers given in replies (to the patch, or to the cover letter).
    pub collected: Vec<Collected>,
}

/// What `patchgate series show --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesDetail {
    #[serde(flatten)]
    pub series: SeriesRecord,
    pub cover: Option<CoverRecord>,
    pub patches: Vec<PatchRecord>,
}
