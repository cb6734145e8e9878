//! The append-only event log and the state column it keeps current.
//!
//! Appending folds the new event into the series' cached state in the same
//! transaction ([`patchgate_store::event::next_state`]), so the column always equals
//! [`patchgate_store::event::state_from_events`] of the log.

use super::{from_json, to_json, Step};
use patchgate_store::event::{next_state, Event, EventKind, EventRecord, State};
use patchgate_store::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// Append `event` to `series_id`'s log inside `tx`; returns the event id.
pub(super) fn append(tx: &Transaction<'_>, series_id: i64, event: &Event) -> Result<i64> {
    let state: Option<String> = tx
        .prepare_cached("SELECT state FROM series WHERE id = ?1")
        .and_then(|mut st| st.query_row([series_id], |r| r.get(0)).optional())
        .step(|| format!("reading the state of series {series_id}"))?;
    let state = state.ok_or(Error::NoSuchSeries(series_id))?;
    let state: State = state.parse().map_err(|detail| Error::Corrupt {
        what: "state",
        whose: format!("series {series_id}"),
        detail,
    })?;
    let detail = to_json(&event.detail, "event detail")?;
    tx.prepare_cached(
        "INSERT INTO events (series_id, at, kind, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| {
        st.execute(params![
            series_id,
            event.at,
            event.kind.as_str(),
            event.actor,
            detail
        ])
    })
    .step(|| format!("appending a {} event to series {series_id}", event.kind))?;
    let id = tx.last_insert_rowid();
    let next = next_state(state, &event.kind);
    if next != state {
        tx.prepare_cached("UPDATE series SET state = ?1 WHERE id = ?2")
            .and_then(|mut st| st.execute(params![next.as_str(), series_id]))
            .step(|| format!("updating the state of series {series_id}"))?;
    }
    Ok(id)
}

pub(super) fn list(conn: &Connection, series_id: i64) -> Result<Vec<EventRecord>> {
    let what = || format!("reading the history of series {series_id}");
    let mut st = conn
        .prepare_cached(
            "SELECT id, at, kind, actor, detail FROM events WHERE series_id = ?1 ORDER BY id",
        )
        .step(what)?;
    let rows = st
        .query_map([series_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .step(what)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, kind, actor, detail) = row.step(what)?;
        out.push(EventRecord {
            id,
            series_id,
            event: Event {
                at,
                kind: EventKind::from(kind),
                actor,
                detail: from_json(&detail, "event detail", || format!("event {id}"))?,
            },
        });
    }
    Ok(out)
}
