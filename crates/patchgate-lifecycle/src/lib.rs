//! The series lifecycle, apart from any storage: the states a series
//! revision goes through, the events that move it ([`event`]) with the
//! typed details code reads back ([`detail`]), and which state follows which
//! event ([`transition`]); and the [`plan()`] that reconciles a fresh
//! assembly with the stored series.
//!
//! A backend stores events and a cached state; every decision about them
//! is made here, so a second backend is storage and nothing else. Pure: no
//! IO, no clock (times come in as arguments).

pub mod detail;
pub mod event;
pub mod plan;

pub use detail::Detail;
pub use event::{next_state, state_from_events, transition, Event, EventKind, Refused, State};
pub use plan::{plan, Plan, StoredView};
