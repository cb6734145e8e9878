//! A [`Group`] of mails to the fields of a [`Series`]: title, author,
//! version, completeness, tags, base commit and change-id.
//!
//! Topic and supersession fields are left empty here; `topic` fills them.

use crate::index::Table;
use crate::thread::Group;
use crate::{Series, SeriesPatch};

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
    // Every absent index is listed: parsing reads no count above
    // `patchgate_mail::subject::MAX_COUNT`, so the list stays bounded. The
    // bound here only guards summaries stored before that limit existed.
    let missing = (1..=total.min(patchgate_mail::subject::MAX_COUNT))
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
        date: members().filter_map(|m| m.date).min(),
        complete,
        missing,
        tags,
        base_commit: members().find_map(|m| m.base_commit.clone()),
        change_id: members().find_map(|m| m.change_id.clone()),
        topic: String::new(),
        superseded_by: None,
    }
}
