//! A [`Group`] of mails to the fields of a [`Series`]: title, author,
//! version, completeness, tags, base commit and change-id.
//!
//! Topic and supersession fields are left empty here; `topic` fills them.

use crate::index::Table;
use crate::thread::Group;
use crate::{Series, SeriesPatch};

/// Above this `N` a subject is taken to be garbage: `missing` lists at most
/// this many indices, so a hostile `[PATCH 0/4000000000]` cannot exhaust
/// memory. `complete` is still computed exactly.
const MAX_LISTED_MISSING: u32 = 10_000;

pub(crate) fn series(table: &Table, g: &Group) -> Series {
    let cover = g.cover.map(|i| table.mails[i]);
    let first_patch = g.patches.values().next().map(|&i| table.mails[i]);
    // The cover speaks for the series; without one, its first patch does.
    let head = cover.or(first_patch).unwrap_or(table.mails[g.head]);

    let highest = g.patches.keys().next_back().copied().unwrap_or(0);
    let total = g.total.unwrap_or(highest);
    // `[PATCH 2/0]` states no series at all: never complete.
    let complete = total > 0
        && u64::try_from(g.patches.range(1..=total).count()).ok() == Some(u64::from(total));
    let missing = (1..=total.min(MAX_LISTED_MISSING))
        .filter(|n| !g.patches.contains_key(n))
        .collect();

    let mut tags = head.prefix.tags.clone();
    for (on, word) in [(head.prefix.rfc, "RFC"), (head.prefix.resend, "RESEND")] {
        if on && !tags.iter().any(|t| t.eq_ignore_ascii_case(word)) {
            tags.push(word.to_owned());
        }
    }

    let members = || g.members().map(|i| table.mails[i]);
    Series {
        key: head.id.clone(),
        cover: cover.map(|m| m.id.clone()),
        patches: g
            .patches
            .iter()
            .map(|(&index, &i)| SeriesPatch {
                index,
                message_id: table.mails[i].id.clone(),
                collected: Vec::new(),
            })
            .collect(),
        version: g.version,
        total,
        title: head.prefix.title.clone(),
        author: head.from.clone(),
        received: members().filter_map(|m| m.date).min(),
        complete,
        missing,
        tags,
        base_commit: members().find_map(|m| m.base_commit.clone()),
        change_id: members().find_map(|m| m.change_id.clone()),
        topic: String::new(),
        superseded_by: None,
    }
}
