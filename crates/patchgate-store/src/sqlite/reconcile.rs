//! Reconciling stored series and topics with a fresh assembly.
//!
//! Assembly is recomputed from all mails after every ingest and knows
//! series only by keys (Message-IDs), which change when, say, a cover letter
//! arrives after its patches. The store gives each series a stable integer
//! id instead, by matching on shared members:
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
//!   Message-IDs still resolve to the survivor through `find_series`;
//! - topics are matched the same way, by the stored topics of their
//!   matched series.
//!
//! Change detection compares the assembled series' JSON with the snapshot
//! stored at the last apply, plus the mapped topic and superseded-by ids, so
//! applying the same assembly twice writes nothing at all.

use super::events;
use super::{from_json, to_json, write_tx, Step};
use crate::error::{Error, Result};
use crate::event::State;
use crate::records::AssemblyChanges;
use patchgate_lifecycle::detail::{self, Detail};
use patchgate_series::{Assembly, Series};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

const ACTOR: &str = "assembly";

/// A live stored series, as far as reconciling needs it.
struct Stored {
    topic_id: i64,
    superseded_by: Option<i64>,
    snapshot: String,
    state: String,
}

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

/// Reconcile with `a`. With `scope` (the Message-IDs of every mail `a` was
/// assembled from, a union of whole connected parts of the archive), only
/// stored series and topics holding one of those mails or a member of `a`
/// are considered, and the scope's pending marks are cleared; without it,
/// `a` stands for the whole archive and every stored series is considered.
pub(super) fn apply(
    conn: &mut Connection,
    a: &Assembly,
    scope: Option<&[String]>,
    at: i64,
) -> Result<AssemblyChanges> {
    // Assembly partitions mails; refuse an answer that does not, before
    // writing anything.
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, s) in a.series.iter().enumerate() {
        for (id, _) in members(s) {
            if let Some(j) = owner.insert(id, i) {
                if j != i {
                    return Err(Error::AssemblyConflict {
                        message_id: id.to_string(),
                        first: a.series[j].key.clone(),
                        second: s.key.clone(),
                    });
                }
            }
        }
    }

    let tx = write_tx(conn, "reconciling series")?;
    let (stored, member_of) = match scope {
        None => (load_stored(&tx)?, load_members(&tx)?),
        // Every member of `a` is in the scope (it was assembled from it).
        Some(scope) => load_scoped(&tx, scope.iter().map(String::as_str))?,
    };

    // Match series on shared member mails.
    let mut overlaps: HashMap<(usize, i64), usize> = HashMap::new();
    for (i, s) in a.series.iter().enumerate() {
        for (id, _) in members(s) {
            if let Some(&sid) = member_of.get(id) {
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
            if let Some(st) = matched[i].and_then(|sid| stored.get(&sid)) {
                *topic_overlaps.entry((g, st.topic_id)).or_default() += 1;
            }
        }
    }
    let topic_matched = assign(topic_overlaps, groups.len());
    let mut topic_of = vec![0i64; a.series.len()];
    let mut live_topics = HashSet::new();
    for (g, (key, idxs)) in groups.iter().enumerate() {
        let tid = match topic_matched[g] {
            Some(tid) => {
                tx.prepare_cached("UPDATE topics SET key = ?1 WHERE id = ?2 AND key <> ?1")
                    .and_then(|mut st| st.execute(params![key, tid]))
                    .step(|| format!("updating topic {tid}"))?;
                tid
            }
            None => {
                tx.prepare_cached("INSERT INTO topics (key, created_at) VALUES (?1, ?2)")
                    .and_then(|mut st| st.execute(params![key, at]))
                    .step(|| format!("creating topic {key}"))?;
                tx.last_insert_rowid()
            }
        };
        live_topics.insert(tid);
        for &i in idxs {
            topic_of[i] = tid;
        }
    }

    // Give new series their ids first: superseded_by may point at them.
    let mut ids = Vec::with_capacity(a.series.len());
    for (i, s) in a.series.iter().enumerate() {
        let id = match matched[i] {
            Some(id) => id,
            None => create(&tx, s, topic_of[i], at)?,
        };
        ids.push(id);
    }
    let id_of_key: HashMap<&str, i64> = a
        .series
        .iter()
        .zip(&ids)
        .map(|(s, &id)| (s.key.as_str(), id))
        .collect();

    // Decide what changed; rewrite memberships only after every stale
    // membership is gone, since mails may move between series.
    let mut changes = AssemblyChanges::default();
    let mut rewrite = Vec::new();
    for (i, s) in a.series.iter().enumerate() {
        let id = ids[i];
        let snapshot = to_json(s, "series snapshot")?;
        let superseded_by = s
            .superseded_by
            .as_deref()
            .and_then(|k| id_of_key.get(k).copied())
            .filter(|&by| by != id);
        let old = matched[i].and_then(|sid| stored.get(&sid));
        if let Some(old) = old {
            if old.snapshot == snapshot
                && old.topic_id == topic_of[i]
                && old.superseded_by == superseded_by
            {
                changes.unchanged += 1;
                continue;
            }
        }
        rewrite.push((i, snapshot, superseded_by));
    }
    let absorbed: Vec<i64> = {
        let kept: HashSet<i64> = matched.iter().flatten().copied().collect();
        let mut v: Vec<i64> = stored
            .keys()
            .copied()
            .filter(|id| !kept.contains(id))
            .collect();
        v.sort_unstable();
        v
    };
    for id in rewrite
        .iter()
        .map(|(i, ..)| ids[*i])
        .chain(absorbed.iter().copied())
    {
        tx.prepare_cached("DELETE FROM series_mails WHERE series_id = ?1")
            .and_then(|mut st| st.execute([id]))
            .step(|| format!("clearing the mails of series {id}"))?;
    }

    for (i, snapshot, superseded_by) in rewrite {
        let s = &a.series[i];
        let id = ids[i];
        write_fields(&tx, id, s, topic_of[i], superseded_by, &snapshot, at)?;
        write_members(&tx, id, s)?;
        let old = matched[i].and_then(|sid| stored.get(&sid));
        let Some(old) = old else {
            let ingested = detail::Ingested {
                key: Some(s.key.clone()),
                version: Some(s.version),
                total: Some(s.total),
                received: Some(s.patches.len() as u64),
                cover: Some(s.cover.is_some()),
            };
            event(&tx, id, &ingested, at)?;
            if let Some(by) = superseded_by {
                // Born superseded (its newer revision came in the same
                // batch): superseded by this apply all the same.
                event(&tx, id, &detail::Superseded { by: Some(by) }, at)?;
                changes.superseded += 1;
            }
            changes.new += 1;
            changes.new_ids.push(id);
            continue;
        };
        // A damaged snapshot only costs the precision of the event detail.
        let previous: Option<Series> = serde_json::from_str(&old.snapshot).ok();
        if let Some(detail) = gained(previous.as_ref(), s) {
            event(&tx, id, &detail, at)?;
        }
        let became_superseded = old.superseded_by.is_none() && superseded_by.is_some();
        if let Some(by) = superseded_by.filter(|_| became_superseded) {
            event(&tx, id, &detail::Superseded { by: Some(by) }, at)?;
            changes.superseded += 1;
        } else {
            if superseded_by.is_none() && old.state == State::Superseded.as_str() {
                let why = detail::Reopened {
                    reason: Some("no newer revision supersedes it any more".into()),
                };
                event(&tx, id, &why, at)?;
            }
            changes.updated += 1;
        }
        changes.changed_ids.push(id);
    }

    let mut heirs = HashMap::new();
    for &id in &absorbed {
        heirs.insert(id, absorb(&tx, id, &stored, &owner, &ids, at)?);
        changes.merged += 1;
    }
    let topic_now: HashMap<i64, i64> = ids.iter().copied().zip(topic_of.iter().copied()).collect();
    let stale = match scope {
        None => live_topics_but(&tx, &live_topics)?,
        Some(_) => stored_topics_but(&tx, &stored, &live_topics)?,
    };
    retire_topics(&tx, stale, &stored, &topic_now, &heirs)?;
    if let Some(scope) = scope {
        super::scope::clear_pending(&tx, scope)?;
    }

    tx.commit().step(|| "committing the reconciled series")?;
    changes.new_ids.sort_unstable();
    changes.changed_ids.sort_unstable();
    Ok(changes)
}

fn load_stored(tx: &Transaction<'_>) -> Result<HashMap<i64, Stored>> {
    let what = || "reading the stored series";
    let mut st = tx
        .prepare_cached(
            "SELECT id, topic_id, superseded_by, snapshot, state FROM series WHERE live = 1",
        )
        .step(what)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                Stored {
                    topic_id: r.get(1)?,
                    superseded_by: r.get(2)?,
                    snapshot: r.get(3)?,
                    state: r.get(4)?,
                },
            ))
        })
        .step(what)?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, s) = row.step(what)?;
        out.insert(id, s);
    }
    Ok(out)
}

/// Live topics, by id, that no assembled series belongs to.
fn live_topics_but(tx: &Transaction<'_>, live: &HashSet<i64>) -> Result<Vec<i64>> {
    let what = || "retiring topics";
    let mut st = tx
        .prepare_cached("SELECT id FROM topics WHERE live = 1 ORDER BY id")
        .step(what)?;
    let rows = st.query_map([], |r| r.get::<_, i64>(0)).step(what)?;
    let mut v = Vec::new();
    for r in rows {
        let id = r.step(what)?;
        if !live.contains(&id) {
            v.push(id);
        }
    }
    Ok(v)
}

/// The live topics of the considered stored series that no assembled
/// series belongs to, by id. Topics outside a scope are never looked at.
fn stored_topics_but(
    tx: &Transaction<'_>,
    stored: &HashMap<i64, Stored>,
    live: &HashSet<i64>,
) -> Result<Vec<i64>> {
    let candidates: BTreeSet<i64> = stored
        .values()
        .map(|s| s.topic_id)
        .filter(|t| !live.contains(t))
        .collect();
    let mut st = tx
        .prepare_cached("SELECT live FROM topics WHERE id = ?1")
        .step(|| "retiring topics")?;
    let mut v = Vec::new();
    for tid in candidates {
        let is_live: bool = st
            .query_row([tid], |r| r.get(0))
            .step(|| format!("reading topic {tid}"))?;
        if is_live {
            v.push(tid);
        }
    }
    Ok(v)
}

fn load_members(tx: &Transaction<'_>) -> Result<HashMap<String, i64>> {
    let what = || "reading series memberships";
    let mut st = tx
        .prepare_cached("SELECT message_id, series_id FROM series_mails")
        .step(what)?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .step(what)?;
    let mut out = HashMap::new();
    for row in rows {
        let (m, s) = row.step(what)?;
        out.insert(m, s);
    }
    Ok(out)
}

/// The live series holding any of `ids`, and all of their members. Since a
/// stored series was assembled from one connected part of the archive, a
/// series holding one mail of a scope lies wholly inside it.
fn load_scoped<'i>(
    tx: &Transaction<'_>,
    ids: impl Iterator<Item = &'i str>,
) -> Result<(HashMap<i64, Stored>, HashMap<String, i64>)> {
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
    let mut stored = HashMap::new();
    let mut member_of = HashMap::new();
    for sid in series_ids {
        let s = row
            .query_row([sid], |r| {
                Ok(Stored {
                    topic_id: r.get(0)?,
                    superseded_by: r.get(1)?,
                    snapshot: r.get(2)?,
                    state: r.get(3)?,
                })
            })
            .optional()
            .step(what)?;
        let Some(s) = s else { continue };
        stored.insert(sid, s);
        let rows = mails
            .query_map([sid], |r| r.get::<_, String>(0))
            .step(what)?;
        for m in rows {
            member_of.insert(m.step(what)?, sid);
        }
    }
    Ok((stored, member_of))
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

fn event(tx: &Transaction<'_>, id: i64, detail: &impl Detail, at: i64) -> Result<()> {
    events::append(tx, id, &detail.event(at, ACTOR)).map(|_| ())
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

/// Merge away a stored series assembly no longer produces; returns its heir.
fn absorb(
    tx: &Transaction<'_>,
    id: i64,
    stored: &HashMap<i64, Stored>,
    owner: &HashMap<&str, usize>,
    ids: &[i64],
    at: i64,
) -> Result<Option<i64>> {
    // Its heir: whoever now holds its key mail, else most of its mails.
    let previous: Option<Series> = stored
        .get(&id)
        .and_then(|s| from_json(&s.snapshot, "series snapshot", || format!("series {id}")).ok());
    let into = previous.as_ref().and_then(|p| {
        if let Some(&i) = owner.get(p.key.as_str()) {
            return Some(ids[i]);
        }
        let mut votes: BTreeMap<i64, usize> = BTreeMap::new();
        for (m, _) in members(p) {
            if let Some(&i) = owner.get(m) {
                *votes.entry(ids[i]).or_default() += 1;
            }
        }
        votes
            .into_iter()
            .max_by(|(a, ca), (b, cb)| ca.cmp(cb).then(b.cmp(a)))
            .map(|(s, _)| s)
    });
    tx.prepare_cached(
        "UPDATE series SET live = 0, merged_into = ?2, superseded_by = NULL, updated_at = ?3
         WHERE id = ?1",
    )
    .and_then(|mut st| st.execute(params![id, into, at]))
    .step(|| format!("merging series {id} away"))?;
    event(tx, id, &detail::Absorbed { into }, at)?;
    Ok(into)
}

/// Retire live topics that no assembled series belongs to any more: each
/// is merged into the current topic of the first of its former series
/// (following that series to its heir if it was merged away).
fn retire_topics(
    tx: &Transaction<'_>,
    stale: Vec<i64>,
    stored: &HashMap<i64, Stored>,
    topic_now: &HashMap<i64, i64>,
    heirs: &HashMap<i64, Option<i64>>,
) -> Result<()> {
    let mut former: Vec<(i64, i64)> = stored.iter().map(|(&id, s)| (id, s.topic_id)).collect();
    former.sort_unstable();
    for tid in stale {
        let into = former
            .iter()
            .filter(|(_, t)| *t == tid)
            .find_map(|(sid, _)| {
                let now = heirs.get(sid).copied().flatten().unwrap_or(*sid);
                topic_now.get(&now).copied()
            });
        tx.prepare_cached("UPDATE topics SET live = 0, merged_into = ?2 WHERE id = ?1")
            .and_then(|mut st| st.execute(params![tid, into]))
            .step(|| format!("retiring topic {tid}"))?;
    }
    Ok(())
}
