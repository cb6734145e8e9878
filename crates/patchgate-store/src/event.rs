//! The event log's vocabulary, from [`patchgate_lifecycle`], and the event
//! as stored.
//!
//! A series' [`State`] is never edited in place: it is the fold of its
//! events ([`state_from_events`]). Backends cache the result in a column,
//! updated in the transaction that appends the event, but the events are
//! the truth.

pub use patchgate_lifecycle::event::{
    next_state, state_from_events, transition, Event, EventKind, Refused, State,
};
use serde::{Deserialize, Serialize};

/// One line of a series' history, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Increasing in append order; the log is ordered by it, not by `at`,
    /// so clocks that disagree cannot reorder a history.
    pub id: i64,
    pub series_id: i64,
    #[serde(flatten)]
    pub event: Event,
}
