//! Messages and source cursors: the ingest hot path.
//!
//! A batch is one transaction with a few cached statements; a duplicate
//! Message-ID is found by the insert's own unique index and skipped. The
//! assembly summary is stored as JSON beside the listing columns and read
//! back only for the rows assembly needs (`for_assembly`); those rows carry
//! their hashed relation keys and are marked pending assembly, and the keys
//! are indexed when the mail is taken for assembly (`scope`).

use super::{from_json, to_json, write_tx, Step};
use patchgate_mail::{Kind, Message, Person};
use patchgate_series::Mail;
use patchgate_store::Result;
use patchgate_store::{InsertStats, MessageSummary, NewMessage, UnusableMessage};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

pub(super) fn kind_str(kind: Kind) -> &'static str {
    match kind {
        Kind::Patch => "patch",
        Kind::Cover => "cover",
        Kind::PullRequest => "pull-request",
        Kind::Reply => "reply",
        Kind::Other => "other",
        Kind::Unusable => "unusable",
    }
}

fn kind_from(s: &str) -> Option<Kind> {
    [
        Kind::Patch,
        Kind::Cover,
        Kind::PullRequest,
        Kind::Reply,
        Kind::Other,
        Kind::Unusable,
    ]
    .into_iter()
    .find(|k| kind_str(*k) == s)
}

/// Whether assembly needs this mail: patches and cover letters make
/// series, and replies that carry trailers give them. A reply without
/// trailers is left out: a trailer in a reply to it still reaches its patch
/// when its References name the thread above, as mail clients write them;
/// one whose References stop at that reply does not.
fn for_assembly(m: &Message) -> bool {
    match m.kind {
        Kind::Patch | Kind::Cover => true,
        Kind::Reply => !m.trailers.is_empty(),
        Kind::PullRequest | Kind::Other | Kind::Unusable => false,
    }
}

fn is_unusable(m: &Message) -> bool {
    m.kind == Kind::Unusable || !m.problems.is_empty()
}

pub(super) fn insert(
    conn: &mut Connection,
    batch: &[NewMessage<'_>],
    cursor: Option<(&str, &str)>,
) -> Result<InsertStats> {
    let tx = write_tx(conn, "a batch of messages")?;
    let mut stats = InsertStats::default();
    {
        let mut row = tx
            .prepare_cached(
                "INSERT INTO messages (message_id, kind, subject, from_name, from_email, date,
                     list_id, problems, source, size, for_assembly, mail, relation_keys)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (message_id) DO NOTHING",
            )
            .step(|| "preparing the message insert")?;
        let mut raw = tx
            .prepare_cached("INSERT INTO message_raw (message, raw) VALUES (?1, ?2)")
            .step(|| "preparing the raw message insert")?;
        for new in batch {
            let m = new.message;
            let problems = if m.problems.is_empty() {
                None
            } else {
                Some(to_json(&m.problems, "problems")?)
            };
            let summary = Mail::from(m);
            let mail = to_json(&summary, "assembly summary")?;
            let assembled = for_assembly(m);
            let keys = assembled.then(|| patchgate_series::encode_relation_keys(&summary));
            let inserted = row
                .execute(params![
                    m.id,
                    kind_str(m.kind),
                    m.subject,
                    m.from.name,
                    m.from.email,
                    m.date,
                    m.list_id,
                    problems,
                    new.source,
                    new.raw.len() as i64,
                    assembled,
                    mail,
                    keys,
                ])
                .step(|| format!("storing message {} from {}", m.id, new.source))?;
            if inserted == 0 {
                stats.duplicates += 1;
                continue;
            }
            let rowid = tx.last_insert_rowid();
            raw.execute(params![rowid, new.raw])
                .step(|| format!("storing the bytes of message {}", m.id))?;
            if assembled {
                super::scope::mark_pending(&tx, rowid, &m.id)?;
            }
            stats.inserted += 1;
            if is_unusable(m) {
                stats.unusable += 1;
                stats.unusable_ids.push(m.id.clone());
            }
        }
    }
    if let Some((key, value)) = cursor {
        set_cursor(&tx, key, value)?;
    }
    tx.commit()
        .step(|| format!("committing a batch of {} messages", batch.len()))?;
    Ok(stats)
}

pub(super) fn raw(conn: &Connection, message_id: &str) -> Result<Option<Vec<u8>>> {
    conn.prepare_cached(
        "SELECT r.raw FROM messages m JOIN message_raw r ON r.message = m.id
         WHERE m.message_id = ?1",
    )
    .and_then(|mut st| st.query_row([message_id], |row| row.get(0)).optional())
    .step(|| format!("reading the bytes of message {message_id}"))
}

pub(super) fn summary(conn: &Connection, message_id: &str) -> Result<Option<MessageSummary>> {
    type Row = (
        String,
        String,
        String,
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        String,
        i64,
        String,
    );
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT kind, subject, from_name, from_email, date, list_id, problems, source,
                    size, mail
             FROM messages WHERE message_id = ?1",
        )
        .and_then(|mut st| {
            st.query_row([message_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            })
            .optional()
        })
        .step(|| format!("reading message {message_id}"))?;
    let Some((kind, subject, name, email, date, list_id, problems, source, size, mail)) = row
    else {
        return Ok(None);
    };
    let whose = || format!("message {message_id}");
    let kind = kind_from(&kind).ok_or_else(|| patchgate_store::Error::Corrupt {
        what: "kind",
        whose: whose(),
        detail: format!("unknown kind {kind:?}"),
    })?;
    let problems = match problems {
        Some(p) => from_json(&p, "problems", whose)?,
        None => Vec::new(),
    };
    Ok(Some(MessageSummary {
        message_id: message_id.to_string(),
        kind,
        subject,
        from: Person { name, email },
        date,
        list_id,
        problems,
        source,
        size: size.max(0) as u64,
        mail: from_json(&mail, "assembly summary", whose)?,
    }))
}

pub(super) fn count(conn: &Connection) -> Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get::<_, i64>(0))
        .map(|n| n.max(0) as u64)
        .step(|| "counting messages")
}

pub(super) fn unusable(conn: &Connection) -> Result<Vec<UnusableMessage>> {
    let mut st = conn
        .prepare_cached(
            "SELECT message_id, source, problems FROM messages
             WHERE problems IS NOT NULL OR kind = 'unusable' ORDER BY id",
        )
        .step(|| "listing unusable messages")?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })
        .step(|| "listing unusable messages")?;
    let mut out = Vec::new();
    for row in rows {
        let (message_id, source, problems) = row.step(|| "listing unusable messages")?;
        let reason = match problems {
            Some(p) => {
                let list: Vec<String> =
                    from_json(&p, "problems", || format!("message {message_id}"))?;
                list.join("; ")
            }
            None => "the bytes could not be read as a mail".to_string(),
        };
        out.push(UnusableMessage {
            message_id,
            source,
            reason,
        });
    }
    Ok(out)
}

pub(super) fn assembly_mails(conn: &Connection) -> Result<Vec<Mail>> {
    let mut st = conn
        .prepare_cached("SELECT message_id, mail FROM messages WHERE for_assembly = 1 ORDER BY id")
        .step(|| "reading assembly summaries")?;
    let mut rows = st.query([]).step(|| "reading assembly summaries")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().step(|| "reading assembly summaries")? {
        // Borrow the text straight from SQLite's buffer: no copy per row.
        let mail = row
            .get_ref(1)
            .and_then(|v| v.as_str().map_err(Into::into))
            .step(|| "reading assembly summaries")?;
        out.push(from_json(mail, "assembly summary", || {
            let id: String = row.get(0).unwrap_or_default();
            format!("message {id}")
        })?);
    }
    Ok(out)
}

pub(super) fn cursor(conn: &Connection, source_key: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM cursors WHERE source_key = ?1")
        .and_then(|mut st| st.query_row([source_key], |r| r.get(0)).optional())
        .step(|| format!("reading cursor {source_key}"))
}

pub(super) fn set_cursor(tx: &Transaction<'_>, source_key: &str, value: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO cursors (source_key, value) VALUES (?1, ?2)
         ON CONFLICT (source_key) DO UPDATE SET value = excluded.value",
    )
    .and_then(|mut st| st.execute(params![source_key, value]))
    .step(|| format!("setting cursor {source_key} to {value}"))?;
    Ok(())
}
