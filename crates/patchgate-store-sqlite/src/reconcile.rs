//! Reconciling stored series and topics with a fresh assembly: the SQL.
//!
//! What to write is decided by [`patchgate_lifecycle::plan`]; this loads the
//! [`StoredView`] it decides from and persists the [`Plan`] in one
//! transaction, in the plan's order.

use super::events;
use super::{to_json, write_tx, Step};
use patchgate_lifecycle::plan::{plan, Ids, Plan, StoredSeries, StoredView, TopicWrite};
use patchgate_series::{Assembly, Series};
use patchgate_store::AssemblyChanges;
use patchgate_store::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::collections::{BTreeSet, HashSet};

/// Reconcile with `a`, assembled from `scope` (the Message-IDs of every
/// mail it was assembled from, a union of whole connected parts of the
/// archive): only stored series and topics holding one of those mails or a
/// member of `a` are considered, and the scope's pending marks are cleared.
pub(super) fn apply(
    conn: &mut Connection,
    a: &Assembly,
    scope: &[String],
    at: i64,
) -> Result<AssemblyChanges> {
    let tx = write_tx(conn, "reconciling series")?;
    // Every member of `a` is in the scope (it was assembled from it).
    let view = load_scoped(&tx, scope.iter().map(String::as_str))?;
    // Dropping the transaction unwritten rolls it back.
    let plan = plan(a, &view).map_err(|c| Error::AssemblyConflict {
        message_id: c.message_id,
        first: c.first,
        second: c.second,
    })?;
    let ids = persist(&tx, a, &plan, at)?;
    super::scope::clear_pending(&tx, scope)?;
    tx.commit().step(|| "committing the reconciled series")?;

    let mut changes = AssemblyChanges {
        new: plan.created().count(),
        updated: plan.updated(),
        superseded: plan.superseded(),
        unchanged: plan.unchanged,
        merged: plan.absorbed.len(),
        new_ids: plan.created().map(|w| ids.series(w.id)).collect(),
        changed_ids: plan.changed().map(|w| ids.series(w.id)).collect(),
    };
    changes.new_ids.sort_unstable();
    changes.changed_ids.sort_unstable();
    Ok(changes)
}

/// Write `plan`; returns the ids given to what it creates.
fn persist(tx: &Transaction<'_>, a: &Assembly, plan: &Plan, at: i64) -> Result<Ids> {
    let mut ids = Ids::default();
    for t in &plan.topics {
        match t {
            TopicWrite::Keep { id, key } => {
                tx.prepare_cached("UPDATE topics SET key = ?1 WHERE id = ?2 AND key <> ?1")
                    .and_then(|mut st| st.execute(params![key, id]))
                    .step(|| format!("updating topic {id}"))?;
            }
            TopicWrite::Create { key } => {
                tx.prepare_cached("INSERT INTO topics (key, created_at) VALUES (?1, ?2)")
                    .and_then(|mut st| st.execute(params![key, at]))
                    .step(|| format!("creating topic {key}"))?;
                ids.topics.push(tx.last_insert_rowid());
            }
        }
    }
    for n in &plan.new_series {
        let id = create(tx, &a.series[n.series], ids.topic(n.topic), at)?;
        ids.series.push(id);
    }
    // Mails may move between series: clear every stale membership before
    // writing any.
    let cleared = plan
        .writes
        .iter()
        .map(|w| ids.series(w.id))
        .chain(plan.absorbed.iter().map(|x| x.id));
    for id in cleared {
        tx.prepare_cached("DELETE FROM series_mails WHERE series_id = ?1")
            .and_then(|mut st| st.execute([id]))
            .step(|| format!("clearing the mails of series {id}"))?;
    }
    for w in &plan.writes {
        let s = &a.series[w.series];
        let id = ids.series(w.id);
        let by = w.superseded_by.map(|r| ids.series(r));
        write_fields(tx, id, s, ids.topic(w.topic), by, &w.snapshot, at)?;
        write_members(tx, id, s)?;
        for e in &w.events {
            events::append(tx, id, &e.event(&ids, at))?;
        }
    }
    for x in &plan.absorbed {
        let into = x.into.map(|r| ids.series(r));
        tx.prepare_cached(
            "UPDATE series SET live = 0, merged_into = ?2, superseded_by = NULL, updated_at = ?3
             WHERE id = ?1",
        )
        .and_then(|mut st| st.execute(params![x.id, into, at]))
        .step(|| format!("merging series {} away", x.id))?;
        events::append(tx, x.id, &x.event(&ids, at))?;
    }
    for r in &plan.retired {
        let into = r.into.map(|t| ids.topic(t));
        tx.prepare_cached("UPDATE topics SET live = 0, merged_into = ?2 WHERE id = ?1")
            .and_then(|mut st| st.execute(params![r.id, into]))
            .step(|| format!("retiring topic {}", r.id))?;
    }
    Ok(ids)
}

fn stored_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<StoredSeries> {
    let state: String = r.get(at + 3)?;
    Ok(StoredSeries {
        topic_id: r.get(at)?,
        superseded_by: r.get(at + 1)?,
        snapshot: r.get(at + 2)?,
        state: state.parse().ok(),
    })
}

/// The live series holding any of `ids`, all of their members, and those
/// of their topics that are live. Since a stored series was assembled from
/// one connected part of the archive, a series holding one mail of a scope
/// lies wholly inside it; topics outside a scope are never looked at.
fn load_scoped<'i>(tx: &Transaction<'_>, ids: impl Iterator<Item = &'i str>) -> Result<StoredView> {
    let what = || "reading the stored series in scope";
    let mut owner = tx
        .prepare_cached("SELECT series_id FROM series_mails WHERE message_id = ?1")
        .step(what)?;
    let mut series_ids = BTreeSet::new();
    let mut asked = HashSet::new();
    for id in ids.filter(|id| asked.insert(*id)) {
        let sid: Option<i64> = owner.query_row([id], |r| r.get(0)).optional().step(what)?;
        series_ids.extend(sid);
    }
    let mut row = tx
        .prepare_cached(
            "SELECT topic_id, superseded_by, snapshot, state FROM series
             WHERE id = ?1 AND live = 1",
        )
        .step(what)?;
    let mut mails = tx
        .prepare_cached("SELECT message_id FROM series_mails WHERE series_id = ?1")
        .step(what)?;
    let mut view = StoredView::default();
    for sid in series_ids {
        let s = row
            .query_row([sid], |r| stored_row(r, 0))
            .optional()
            .step(what)?;
        let Some(s) = s else { continue };
        view.series.insert(sid, s);
        let rows = mails
            .query_map([sid], |r| r.get::<_, String>(0))
            .step(what)?;
        for m in rows {
            view.member_of.insert(m.step(what)?, sid);
        }
    }
    let topics: BTreeSet<i64> = view.series.values().map(|s| s.topic_id).collect();
    let mut st = tx
        .prepare_cached("SELECT live FROM topics WHERE id = ?1")
        .step(|| "reading the topics in scope")?;
    for tid in topics {
        let is_live: bool = st
            .query_row([tid], |r| r.get(0))
            .step(|| format!("reading topic {tid}"))?;
        if is_live {
            view.live_topics.insert(tid);
        }
    }
    Ok(view)
}

/// Insert a placeholder row for a new series; [`write_fields`] fills it.
fn create(tx: &Transaction<'_>, s: &Series, topic_id: i64, at: i64) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO series (key, topic_id, version, subject, author_name, author_email,
             message_id, total, complete, missing, tags, snapshot, created_at, updated_at)
         VALUES (?1, ?2, 0, '', '', '', ?1, 0, 0, '[]', '[]', '', ?3, ?3)",
    )
    .and_then(|mut st| st.execute(params![s.key, topic_id, at]))
    .step(|| format!("creating series {}", s.key))?;
    Ok(tx.last_insert_rowid())
}

fn write_fields(
    tx: &Transaction<'_>,
    id: i64,
    s: &Series,
    topic_id: i64,
    superseded_by: Option<i64>,
    snapshot: &str,
    at: i64,
) -> Result<()> {
    let message_id = s
        .cover
        .as_deref()
        .or_else(|| s.patches.first().map(|p| p.message_id.as_str()))
        .unwrap_or(&s.key);
    let missing = to_json(&s.missing, "missing patches")?;
    let tags = to_json(&s.tags, "tags")?;
    tx.prepare_cached(
        "UPDATE series SET key = ?2, topic_id = ?3, version = ?4, subject = ?5,
             author_name = ?6, author_email = ?7, message_id = ?8, cover_id = ?9, total = ?10,
             received = ?11, complete = ?12, missing = ?13, tags = ?14, base_commit = ?15,
             change_id = ?16, superseded_by = ?17, snapshot = ?18, updated_at = ?19
         WHERE id = ?1",
    )
    .and_then(|mut st| {
        st.execute(params![
            id,
            s.key,
            topic_id,
            s.version,
            s.title,
            s.author.name,
            s.author.email,
            message_id,
            s.cover,
            s.total,
            s.date,
            s.complete,
            missing,
            tags,
            s.base_commit,
            s.change_id,
            superseded_by,
            snapshot,
            at,
        ])
    })
    .step(|| format!("updating series {id} ({})", s.key))?;
    Ok(())
}

fn write_members(tx: &Transaction<'_>, id: i64, s: &Series) -> Result<()> {
    let mut st = tx
        .prepare_cached(
            "INSERT INTO series_mails (message_id, series_id, idx, collected)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .step(|| "preparing the series membership insert")?;
    if let Some(cover) = &s.cover {
        st.execute(params![cover, id, 0, "[]"])
            .step(|| format!("adding cover letter {cover} to series {id}"))?;
    }
    for p in &s.patches {
        let collected = to_json(&p.collected, "collected trailers")?;
        st.execute(params![p.message_id, id, p.index, collected])
            .step(|| format!("adding patch {} to series {id}", p.message_id))?;
    }
    Ok(())
}
