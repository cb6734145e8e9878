//! Scoped assembly: which mails to assemble after new ones arrive.
//!
//! Every assembly mail's relation keys ([`patchgate_series::relation_keys`])
//! are stored hashed ([`patchgate_series::hashed_relation_keys`]) in
//! `assembly_keys`, and every assembly mail not yet
//! assembled is marked in `assembly_pending`. From a few seed mails,
//! [`closure`] follows shared keys to a fixpoint: the result is a union of
//! whole connected parts of the archive, so assembling it gives, for those
//! parts, exactly what assembling every mail would, and memory is bounded by
//! the largest connected part instead of the archive.

use super::{from_json, write_tx, Step};
use patchgate_series::{decode_relation_keys, hashed_relation_keys, Mail};
use patchgate_store::Result;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::collections::HashSet;

/// Mark a freshly stored assembly mail pending, inside the transaction that
/// stores it. Its keys are indexed when it is taken for assembly.
pub(super) fn mark_pending(tx: &Transaction<'_>, rowid: i64, id: &str) -> Result<()> {
    tx.prepare_cached("INSERT INTO assembly_pending (message) VALUES (?1) ON CONFLICT DO NOTHING")
        .and_then(|mut st| st.execute([rowid]))
        .step(|| format!("marking message {id} for assembly"))?;
    Ok(())
}

/// Migration 4: the relation keys of every stored assembly mail. A row whose
/// summary cannot be read gets none; it stays pending, and assembling it
/// reports the damage as reading it always has.
pub(super) fn backfill_keys(conn: &Connection) -> rusqlite::Result<()> {
    let mut read = conn.prepare("SELECT id, mail FROM messages WHERE for_assembly = 1")?;
    let mut insert = conn.prepare(
        "INSERT INTO assembly_keys (key, message) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let text = row.get_ref(1)?.as_str()?;
        let Ok(mail) = serde_json::from_str::<Mail>(text) else {
            continue;
        };
        for k in hashed_relation_keys(&mail) {
            insert.execute(params![k, id])?;
        }
    }
    Ok(())
}

/// Up to `limit` pending mails, oldest first: their relation keys are
/// indexed, sorted, in one transaction (inserting them again is harmless),
/// and their Message-IDs returned.
pub(super) fn take_pending(conn: &mut Connection, limit: usize) -> Result<Vec<String>> {
    let what = || "reading the mails pending assembly";
    let tx = write_tx(conn, "indexing the mails pending assembly")?;
    let mut ids = Vec::new();
    let mut keys: Vec<(i64, i64)> = Vec::new();
    {
        let mut st = tx
            .prepare_cached(
                "SELECT p.message, m.message_id, m.relation_keys FROM assembly_pending p
                 JOIN messages m ON m.id = p.message ORDER BY p.message LIMIT ?1",
            )
            .step(what)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = st.query([limit]).step(what)?;
        while let Some(row) = rows.next().step(what)? {
            let rowid: i64 = row.get(0).step(what)?;
            let id: String = row.get(1).step(what)?;
            // A row without the blob was stored before keys were kept with
            // it, and the migrations' backfill indexed its keys already.
            if let Ok(Some(blob)) = row.get_ref(2).step(what)?.as_blob_or_null() {
                keys.extend(decode_relation_keys(blob).map(|k| (k, rowid)));
            }
            ids.push(id);
        }
    }
    keys.sort_unstable();
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO assembly_keys (key, message) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )
            .step(|| "preparing the relation key insert")?;
        for (k, rowid) in keys {
            insert
                .execute(params![k, rowid])
                .step(|| "indexing the relation keys of pending mail")?;
        }
    }
    tx.commit()
        .step(|| "committing the relation keys of pending mail")?;
    Ok(ids)
}

/// Seeds above which [`closure`] scans the whole key index once instead of
/// probing it key by key: a probe costs a few microseconds, a scanned row a
/// few dozen nanoseconds, so many seeds (a first import) are cheaper to
/// serve by a scan, one message piped in by probes.
const SCAN_ABOVE: usize = 2_000;
/// A scan reads every stored mail; probes cost per seed. The scan is
/// chosen only while the seeds are at least this share of the archive
/// (one in `SCAN_RATIO`), so the chunks of a huge import do not each read
/// the whole archive again.
const SCAN_RATIO: i64 = 50;
/// Highest message rowid for which the scan's per-row table (8 bytes a
/// row) is built; past it, probing is used whatever the number of seeds.
const SCAN_MAX_ROWID: i64 = 1 << 26;

/// Every assembly mail connected to a seed through shared relation keys,
/// the seeds included.
pub(super) fn closure(conn: &Connection, seeds: &[String]) -> Result<Vec<Mail>> {
    if seeds.len() > SCAN_ABOVE {
        let max: Option<i64> = conn
            .query_row("SELECT MAX(id) FROM messages", [], |r| r.get(0))
            .step(|| "reading the highest message row")?;
        let seeds_share = i64::try_from(seeds.len())
            .unwrap_or(i64::MAX)
            .saturating_mul(SCAN_RATIO);
        if let Some(max) = max.filter(|&m| (0..=SCAN_MAX_ROWID).contains(&m) && seeds_share >= m) {
            return closure_by_scan(conn, seeds, max);
        }
    }
    closure_by_probes(conn, seeds)
}

/// The row ids of `seeds` that are assembly mails.
fn seed_rows(conn: &Connection, seeds: &[String]) -> Result<Vec<i64>> {
    let what = || "finding the new mails";
    let mut by_id = conn
        .prepare_cached("SELECT id FROM messages WHERE message_id = ?1 AND for_assembly = 1")
        .step(what)?;
    let mut out = Vec::with_capacity(seeds.len());
    for seed in seeds {
        let row: Option<i64> = by_id
            .query_row([seed], |r| r.get(0))
            .optional()
            .step(what)?;
        out.extend(row);
    }
    Ok(out)
}

/// Read one assembly mail by row id.
fn read_mail(conn: &Connection, row: i64) -> Result<Option<Mail>> {
    conn.prepare_cached("SELECT message_id, mail FROM messages WHERE id = ?1")
        .and_then(|mut st| {
            st.query_row([row], |r| {
                let id: String = r.get(0)?;
                let text = r.get_ref(1)?.as_str()?;
                Ok(from_json(text, "assembly summary", || {
                    format!("message {id}")
                }))
            })
            .optional()
        })
        .step(|| format!("reading message row {row}"))?
        .transpose()
}

/// [`closure`] by one scan of the key index: rows sharing a key are joined
/// in a union-find over message row ids, then the mails whose part holds a
/// seed are read. Memory: 8 bytes per message row, not per mail.
fn closure_by_scan(conn: &Connection, seeds: &[String], max: i64) -> Result<Vec<Mail>> {
    let what = || "scanning the relation keys";
    const ABSENT: usize = usize::MAX;
    let len = usize::try_from(max).unwrap_or(0) + 1;
    let mut parent: Vec<usize> = vec![ABSENT; len];
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut st = conn
        .prepare_cached("SELECT key, message FROM assembly_keys ORDER BY key")
        .step(what)?;
    let mut rows = st.query([]).step(what)?;
    let mut current: Option<(i64, usize)> = None;
    while let Some(row) = rows.next().step(what)? {
        let key: i64 = row.get(0).step(what)?;
        let message: i64 = row.get(1).step(what)?;
        let Some(m) = usize::try_from(message).ok().filter(|&m| m < len) else {
            continue;
        };
        if parent[m] == ABSENT {
            parent[m] = m;
        }
        match current {
            Some((k, first)) if k == key => {
                let (a, b) = (find(&mut parent, first), find(&mut parent, m));
                parent[a.max(b)] = a.min(b);
            }
            _ => current = Some((key, m)),
        }
    }
    drop(rows);
    // Two sequential passes over the mails are cheaper than a probe per
    // mail: one finds the seeds' parts, one reads the mails in them.
    let wanted: HashSet<&str> = seeds.iter().map(String::as_str).collect();
    let mut roots = HashSet::new();
    let mut ids = conn
        .prepare_cached("SELECT id, message_id FROM messages WHERE for_assembly = 1")
        .step(what)?;
    let mut rows = ids.query([]).step(what)?;
    while let Some(row) = rows.next().step(what)? {
        let id = row.get_ref(1).and_then(|v| Ok(v.as_str()?)).step(what)?;
        if !wanted.contains(id) {
            continue;
        }
        let row: i64 = row.get(0).step(what)?;
        if let Some(m) = usize::try_from(row).ok().filter(|&m| m < len) {
            if parent[m] == ABSENT {
                // A mail without keys (its summary was unreadable at
                // migration) is a part of its own.
                parent[m] = m;
            }
            roots.insert(find(&mut parent, m));
        }
    }
    drop(rows);
    let mut read = conn
        .prepare_cached("SELECT id, message_id, mail FROM messages WHERE for_assembly = 1")
        .step(what)?;
    let mut rows = read.query([]).step(what)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().step(what)? {
        let m: i64 = row.get(0).step(what)?;
        let Some(m) = usize::try_from(m).ok().filter(|&m| m < len) else {
            continue;
        };
        if parent[m] == ABSENT || !roots.contains(&find(&mut parent, m)) {
            continue;
        }
        let text = row.get_ref(2).and_then(|v| Ok(v.as_str()?)).step(what)?;
        out.push(from_json(text, "assembly summary", || {
            let id: String = row.get(1).unwrap_or_default();
            format!("message {id}")
        })?);
    }
    Ok(out)
}

/// [`closure`] by probing the key index from the seeds outwards, each key
/// once and each mail read once.
fn closure_by_probes(conn: &Connection, seeds: &[String]) -> Result<Vec<Mail>> {
    let what = || "expanding new mails to the mails they relate to";
    let mut by_key = conn
        .prepare_cached("SELECT message FROM assembly_keys WHERE key = ?1")
        .step(what)?;
    let mut seen_rows: HashSet<i64> = HashSet::new();
    let mut seen_keys: HashSet<i64> = HashSet::new();
    let mut rows: Vec<i64> = seed_rows(conn, seeds)?;
    rows.retain(|&r| seen_rows.insert(r));
    let mut keys: Vec<i64> = Vec::new();
    let mut out = Vec::new();
    loop {
        while let Some(row) = rows.pop() {
            let Some(mail) = read_mail(conn, row)? else {
                continue;
            };
            keys.extend(
                hashed_relation_keys(&mail)
                    .into_iter()
                    .filter(|&k| seen_keys.insert(k)),
            );
            out.push(mail);
        }
        let Some(key) = keys.pop() else { break };
        let found = by_key.query_map([key], |r| r.get::<_, i64>(0)).step(what)?;
        for row in found {
            let row = row.step(what)?;
            if seen_rows.insert(row) {
                rows.push(row);
            }
        }
    }
    Ok(out)
}

/// Clear the pending marks of the mails a scoped reconcile covered.
pub(super) fn clear_pending(tx: &Transaction<'_>, scope: &[String]) -> Result<()> {
    let mut st = tx
        .prepare_cached(
            "DELETE FROM assembly_pending
             WHERE message = (SELECT id FROM messages WHERE message_id = ?1)",
        )
        .step(|| "preparing to clear pending marks")?;
    for id in scope {
        st.execute([id])
            .step(|| format!("clearing the pending mark of {id}"))?;
    }
    Ok(())
}

/// Live series in the store.
pub(super) fn count_series(conn: &Connection) -> Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM series WHERE live = 1", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n.max(0) as u64)
    .step(|| "counting series")
}
