//! Series and topic queries: listing, lookup by any reference, patches.

use super::{from_json, Step};
use patchgate_mail::Person;
use patchgate_series::{Collected, Mail};
use patchgate_store::event::State;
use patchgate_store::reference::Reference;
use patchgate_store::{CoverRecord, PatchRecord, SeriesDetail, SeriesFilter, SeriesRecord};
use patchgate_store::{Error, Result};
use rusqlite::{params_from_iter, types::Value as SqlValue, Connection, OptionalExtension, Row};

/// Merge chains are short (a series is merged once); the bound only stops
/// a damaged database from looping.
const MAX_HOPS: usize = 64;

const COLUMNS: &str = "id, topic_id, version, subject, author_name, author_email, message_id, \
     total, received, complete, missing, tags, state, superseded_by, base_commit, change_id, \
     merged_into";

/// A series row as read, before its JSON columns are decoded.
struct RawRecord {
    record: SeriesRecord,
    missing: String,
    tags: String,
    state: String,
}

fn read_row(r: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        record: SeriesRecord {
            id: r.get(0)?,
            topic: r.get(1)?,
            version: r.get(2)?,
            subject: r.get(3)?,
            author: Person {
                name: r.get(4)?,
                email: r.get(5)?,
            },
            message_id: r.get(6)?,
            total: r.get(7)?,
            received: 0,
            date: r.get(8)?,
            complete: r.get(9)?,
            missing: Vec::new(),
            tags: Vec::new(),
            state: State::New,
            superseded_by: r.get(13)?,
            base_commit: r.get(14)?,
            change_id: r.get(15)?,
            merged_into: r.get(16)?,
        },
        missing: r.get(10)?,
        tags: r.get(11)?,
        state: r.get(12)?,
    })
}

fn decode(raw: RawRecord) -> Result<SeriesRecord> {
    let mut rec = raw.record;
    let id = rec.id;
    let whose = || format!("series {id}");
    rec.missing = from_json(&raw.missing, "missing patches", whose)?;
    // `missing` lists every absent index of 1..=total.
    rec.received =
        u32::try_from(rec.missing.len()).map_or(0, |missing| rec.total.saturating_sub(missing));
    rec.tags = from_json(&raw.tags, "tags", whose)?;
    rec.state = raw.state.parse().map_err(|detail| Error::Corrupt {
        what: "state",
        whose: whose(),
        detail,
    })?;
    Ok(rec)
}

/// Run a series query and decode its rows.
fn query(
    conn: &Connection,
    sql: &str,
    args: Vec<SqlValue>,
    what: &str,
) -> Result<Vec<SeriesRecord>> {
    let mut st = conn.prepare_cached(sql).step(|| what.to_string())?;
    let rows = st
        .query_map(params_from_iter(args), read_row)
        .step(|| what.to_string())?;
    let mut out = Vec::new();
    for row in rows {
        out.push(decode(row.step(|| what.to_string())?)?);
    }
    Ok(out)
}

pub(super) fn list(conn: &Connection, filter: &SeriesFilter) -> Result<Vec<SeriesRecord>> {
    let mut sql = format!("SELECT {COLUMNS} FROM series WHERE live = 1");
    let mut args = Vec::new();
    if let Some(state) = filter.state {
        sql.push_str(" AND state = ?");
        args.push(SqlValue::Text(state.as_str().to_string()));
    }
    if let Some(topic) = filter.topic {
        sql.push_str(" AND topic_id = ?");
        args.push(SqlValue::Integer(topic));
    }
    sql.push_str(" ORDER BY id DESC");
    if let Some(limit) = filter.limit {
        sql.push_str(" LIMIT ?");
        args.push(SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    }
    query(conn, &sql, args, "listing series")
}

pub(super) fn get(conn: &Connection, id: i64) -> Result<Option<SeriesRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM series WHERE id = ?");
    let what = format!("reading series {id}");
    Ok(query(conn, &sql, vec![SqlValue::Integer(id)], &what)?
        .into_iter()
        .next())
}

pub(super) fn of_topic(conn: &Connection, topic_id: i64) -> Result<Vec<SeriesRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM series WHERE topic_id = ? AND live = 1
         ORDER BY version, COALESCE(received, 0), id"
    );
    let what = format!("listing the revisions of topic {topic_id}");
    query(conn, &sql, vec![SqlValue::Integer(topic_id)], &what)
}

/// Follow `merged_into` from `id` to the live series or topic it ended in.
fn follow(conn: &Connection, table: &str, start: i64) -> Result<Option<i64>> {
    let sql = format!("SELECT live, merged_into FROM {table} WHERE id = ?1");
    let what = || format!("following {table} {start} to where it was merged");
    let mut id = start;
    let mut st = conn.prepare_cached(&sql).step(what)?;
    for _ in 0..MAX_HOPS {
        let row: Option<(bool, Option<i64>)> = st
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .step(what)?;
        match row {
            None => return Ok(None),
            Some((true, _)) => return Ok(Some(id)),
            Some((false, Some(next))) => id = next,
            // Gone without heir: still answer with it, so its history can be shown.
            Some((false, None)) => return Ok(Some(id)),
        }
    }
    Ok(Some(id))
}

/// The newest live revision of a topic (after following merges).
fn newest_of_topic(conn: &Connection, topic_id: i64) -> Result<Option<i64>> {
    let Some(topic) = follow(conn, "topics", topic_id)? else {
        return Ok(None);
    };
    conn.prepare_cached(
        "SELECT id FROM series WHERE topic_id = ?1 AND live = 1
         ORDER BY version DESC, COALESCE(received, 0) DESC, id DESC LIMIT 1",
    )
    .and_then(|mut st| st.query_row([topic], |r| r.get(0)).optional())
    .step(|| format!("finding the newest revision of topic {topic}"))
}

pub(super) fn find(conn: &Connection, reference: &str) -> Result<Option<i64>> {
    let message_id = match Reference::parse(reference) {
        Reference::TopicId(id) => return newest_of_topic(conn, id),
        Reference::TopicKey(key) => {
            let id: Option<i64> = conn
                .prepare_cached(
                    "SELECT id FROM topics WHERE key = ?1 ORDER BY live DESC, id LIMIT 1",
                )
                .and_then(|mut st| st.query_row([&key], |r| r.get(0)).optional())
                .step(|| format!("finding topic {key}"))?;
            return match id {
                Some(id) => newest_of_topic(conn, id),
                None => Ok(None),
            };
        }
        Reference::Id { id, text } => match follow(conn, "series", id)? {
            Some(found) => return Ok(Some(found)),
            None => text,
        },
        Reference::MessageId(id) => id,
    };
    let message_id = message_id.as_str();
    if let Some(id) = member_series(conn, message_id)? {
        return Ok(Some(id));
    }
    // A reply: walk up its thread, nearest ancestor first, to a member.
    let mail: Option<String> = conn
        .prepare_cached("SELECT mail FROM messages WHERE message_id = ?1")
        .and_then(|mut st| st.query_row([message_id], |r| r.get(0)).optional())
        .step(|| format!("reading message {message_id}"))?;
    let Some(mail) = mail else {
        return Ok(None);
    };
    let mail: Mail = from_json(&mail, "assembly summary", || {
        format!("message {message_id}")
    })?;
    let ancestors = mail.in_reply_to.iter().chain(mail.references.iter().rev());
    for parent in ancestors {
        if let Some(id) = member_series(conn, parent)? {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

fn member_series(conn: &Connection, message_id: &str) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT series_id FROM series_mails WHERE message_id = ?1")
        .and_then(|mut st| st.query_row([message_id], |r| r.get(0)).optional())
        .step(|| format!("finding the series of message {message_id}"))
}

pub(super) fn patches(conn: &Connection, id: i64) -> Result<Vec<PatchRecord>> {
    if get(conn, id)?.is_none() {
        return Err(Error::NoSuchSeries(id));
    }
    let what = || format!("reading the patches of series {id}");
    let mut st = conn
        .prepare_cached(
            "SELECT sm.idx, sm.message_id, sm.collected, m.subject, m.from_name, m.from_email,
                    m.mail
             FROM series_mails sm LEFT JOIN messages m ON m.message_id = sm.message_id
             WHERE sm.series_id = ?1 AND sm.idx > 0 ORDER BY sm.idx",
        )
        .step(what)?;
    let rows = st
        .query_map([id], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .step(what)?;
    let mut out = Vec::new();
    for row in rows {
        let (index, message_id, collected, subject, name, email, mail) = row.step(what)?;
        let whose = || format!("message {message_id}");
        let collected: Vec<Collected> = from_json(&collected, "collected trailers", whose)?;
        let sender = Person {
            name: name.unwrap_or_default(),
            email: email.unwrap_or_default(),
        };
        let (trailers, author) = match mail {
            Some(m) => {
                let mail = from_json::<Mail>(&m, "assembly summary", whose)?;
                (mail.trailers, mail.author)
            }
            None => (Vec::new(), None),
        };
        out.push(PatchRecord {
            index,
            message_id,
            subject: subject.unwrap_or_default(),
            author: author.unwrap_or_else(|| sender.clone()),
            sender,
            trailers,
            collected,
        });
    }
    Ok(out)
}

pub(super) fn detail(conn: &Connection, id: i64) -> Result<Option<SeriesDetail>> {
    let Some(series) = get(conn, id)? else {
        return Ok(None);
    };
    let cover: Option<(String, Option<String>)> = conn
        .prepare_cached(
            "SELECT sm.message_id, m.subject
             FROM series_mails sm LEFT JOIN messages m ON m.message_id = sm.message_id
             WHERE sm.series_id = ?1 AND sm.idx = 0",
        )
        .and_then(|mut st| {
            st.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .step(|| format!("reading the cover letter of series {id}"))?;
    let cover = cover.map(|(message_id, subject)| CoverRecord {
        message_id,
        subject: subject.unwrap_or_default(),
    });
    Ok(Some(SeriesDetail {
        series,
        cover,
        patches: patches(conn, id)?,
    }))
}
