//! The event log's vocabulary and the series lifecycle derived from it.
//!
//! A series' [`State`] is never edited in place: it is the fold of its events
//! through [`next_state`], oldest first ([`state_from_events`]). Backends may
//! cache the result in a column, updated in the transaction that appends the
//! event, but the events are the truth. This module is pure.
//!
//! The lifecycle (DESIGN.md):
//!
//! ```text
//! new ─ applying ─┬─ apply-failed
//!                 └─ testing ─ tested(pass|fail) ─ in-review ⇄ changes-requested
//!                                                  └─ accepted ─ gating ─ queued ─ gating ─ in-next ─ merged
//! any open state ─ superseded | withdrawn | rejected
//! queued, in-next ─ dropped
//! ```
//!
//! An event whose transition the lifecycle does not allow from the current
//! state is kept in the history but leaves the state as it is: a late test
//! result for a series already superseded, say, is history, not a new state.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// Where a series revision is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    #[default]
    New,
    Applying,
    ApplyFailed,
    Testing,
    TestedPass,
    TestedFail,
    InReview,
    ChangesRequested,
    Accepted,
    Gating,
    Queued,
    InNext,
    Merged,
    Superseded,
    Withdrawn,
    Rejected,
    Dropped,
}

impl State {
    pub const ALL: [State; 17] = [
        State::New,
        State::Applying,
        State::ApplyFailed,
        State::Testing,
        State::TestedPass,
        State::TestedFail,
        State::InReview,
        State::ChangesRequested,
        State::Accepted,
        State::Gating,
        State::Queued,
        State::InNext,
        State::Merged,
        State::Superseded,
        State::Withdrawn,
        State::Rejected,
        State::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Applying => "applying",
            State::ApplyFailed => "apply-failed",
            State::Testing => "testing",
            State::TestedPass => "tested-pass",
            State::TestedFail => "tested-fail",
            State::InReview => "in-review",
            State::ChangesRequested => "changes-requested",
            State::Accepted => "accepted",
            State::Gating => "gating",
            State::Queued => "queued",
            State::InNext => "in-next",
            State::Merged => "merged",
            State::Superseded => "superseded",
            State::Withdrawn => "withdrawn",
            State::Rejected => "rejected",
            State::Dropped => "dropped",
        }
    }

    /// Still in the submitter's and reviewers' hands: not yet on a branch
    /// and not closed. Only an open series can be superseded, withdrawn or
    /// rejected; once queued or in next it leaves only by being dropped.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            State::New
                | State::Applying
                | State::ApplyFailed
                | State::Testing
                | State::TestedPass
                | State::TestedFail
                | State::InReview
                | State::ChangesRequested
                | State::Accepted
                | State::Gating
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown state {s:?}; the states are {}", names.join(", "))
            })
    }
}

/// What happened. Lifecycle kinds move the state; the others are history.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum EventKind {
    /// Assembly saw the series for the first time.
    Ingested,
    /// The series gained (or lost) patches, its cover letter, or trailers.
    Updated,
    /// The series stopped being produced by assembly: its mails now belong
    /// to the series named in the detail (`{"into": id}`).
    Absorbed,
    Applying,
    ApplyFailed,
    Testing,
    TestedPass,
    TestedFail,
    InReview,
    ChangesRequested,
    Accepted,
    Gating,
    Queued,
    InNext,
    Merged,
    /// A newer revision arrived (`{"by": id}`).
    Superseded,
    Withdrawn,
    Rejected,
    Dropped,
    /// A superseded, withdrawn or rejected series is open again (new).
    Reopened,
    RunFinished,
    Verdict,
    ReportSent,
    BranchMoved,
    /// A test stopped before its verdict: interrupted, its process gone, or
    /// git or the sandbox failing (`{"why": …}`); the series is new again,
    /// to be tested once more.
    Untested,
    /// Any other kind, kept as written so newer code's events survive.
    Other(String),
}

impl EventKind {
    const NAMED: [EventKind; 25] = [
        EventKind::Ingested,
        EventKind::Updated,
        EventKind::Absorbed,
        EventKind::Applying,
        EventKind::ApplyFailed,
        EventKind::Testing,
        EventKind::TestedPass,
        EventKind::TestedFail,
        EventKind::InReview,
        EventKind::ChangesRequested,
        EventKind::Accepted,
        EventKind::Gating,
        EventKind::Queued,
        EventKind::InNext,
        EventKind::Merged,
        EventKind::Superseded,
        EventKind::Withdrawn,
        EventKind::Rejected,
        EventKind::Dropped,
        EventKind::Reopened,
        EventKind::RunFinished,
        EventKind::Verdict,
        EventKind::ReportSent,
        EventKind::BranchMoved,
        EventKind::Untested,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            EventKind::Ingested => "ingested",
            EventKind::Updated => "updated",
            EventKind::Absorbed => "absorbed",
            EventKind::Applying => "applying",
            EventKind::ApplyFailed => "apply-failed",
            EventKind::Testing => "testing",
            EventKind::TestedPass => "tested-pass",
            EventKind::TestedFail => "tested-fail",
            EventKind::InReview => "in-review",
            EventKind::ChangesRequested => "changes-requested",
            EventKind::Accepted => "accepted",
            EventKind::Gating => "gating",
            EventKind::Queued => "queued",
            EventKind::InNext => "in-next",
            EventKind::Merged => "merged",
            EventKind::Superseded => "superseded",
            EventKind::Withdrawn => "withdrawn",
            EventKind::Rejected => "rejected",
            EventKind::Dropped => "dropped",
            EventKind::Reopened => "reopened",
            EventKind::RunFinished => "run-finished",
            EventKind::Verdict => "verdict",
            EventKind::ReportSent => "report-sent",
            EventKind::BranchMoved => "branch-moved",
            EventKind::Untested => "untested",
            EventKind::Other(s) => s,
        }
    }
}

impl From<String> for EventKind {
    fn from(s: String) -> Self {
        EventKind::from(s.as_str())
    }
}

impl From<&str> for EventKind {
    fn from(s: &str) -> Self {
        EventKind::NAMED
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or_else(|| EventKind::Other(s.to_string()))
    }
}

impl From<EventKind> for String {
    fn from(k: EventKind) -> Self {
        k.as_str().to_string()
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a series' history, as appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unix seconds.
    pub at: i64,
    pub kind: EventKind,
    /// Who did it: `assembly`, a worker's name, a maintainer's address.
    pub actor: String,
    /// Why, and the particulars (series ids, branch, commit, reason).
    pub detail: Value,
}

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

/// The state after `kind` happened in `state`; unchanged when the lifecycle
/// does not allow the transition.
pub fn next_state(state: State, kind: &EventKind) -> State {
    use State as S;
    let allowed = |from: &[State], to: State| if from.contains(&state) { to } else { state };
    match kind {
        EventKind::Applying => allowed(
            &[
                S::New,
                S::Applying,
                S::ApplyFailed,
                S::Testing,
                S::TestedPass,
                S::TestedFail,
                S::InReview,
                S::ChangesRequested,
            ],
            S::Applying,
        ),
        EventKind::ApplyFailed => allowed(&[S::Applying], S::ApplyFailed),
        EventKind::Testing => allowed(&[S::Applying, S::Testing], S::Testing),
        EventKind::TestedPass => allowed(&[S::Testing], S::TestedPass),
        EventKind::TestedFail => allowed(&[S::Testing], S::TestedFail),
        EventKind::InReview => allowed(
            &[S::TestedPass, S::TestedFail, S::ChangesRequested],
            S::InReview,
        ),
        EventKind::ChangesRequested => allowed(
            &[S::TestedPass, S::TestedFail, S::InReview],
            S::ChangesRequested,
        ),
        // A maintainer may accept a series at any point before it is on a
        // branch: gating is what holds it to the rules.
        EventKind::Accepted => {
            if state.is_open() && !matches!(state, S::Accepted | S::Gating) {
                S::Accepted
            } else {
                state
            }
        }
        EventKind::Gating => allowed(&[S::Accepted, S::Queued], S::Gating),
        EventKind::Queued => allowed(&[S::Gating], S::Queued),
        EventKind::InNext => allowed(&[S::Gating], S::InNext),
        // Merged by way of the branches, or found landed however it got
        // there (its patches change nothing on the branch any more).
        EventKind::Merged if state.is_open() || matches!(state, S::Queued | S::InNext) => S::Merged,
        EventKind::Dropped => allowed(&[S::Queued, S::InNext, S::Gating], S::Dropped),
        EventKind::Superseded if state.is_open() => S::Superseded,
        EventKind::Withdrawn if state.is_open() => S::Withdrawn,
        EventKind::Rejected if state.is_open() => S::Rejected,
        EventKind::Reopened => allowed(&[S::Superseded, S::Withdrawn, S::Rejected], S::New),
        EventKind::Untested => allowed(&[S::Applying, S::Testing], S::New),
        _ => state,
    }
}

/// A series' state: its events folded through [`next_state`], oldest first.
pub fn state_from_events<'a>(kinds: impl IntoIterator<Item = &'a EventKind>) -> State {
    kinds.into_iter().fold(State::New, next_state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(kinds: &[&str]) -> State {
        let kinds: Vec<EventKind> = kinds.iter().map(|k| EventKind::from(*k)).collect();
        state_from_events(&kinds)
    }

    #[test]
    fn happy_path_reaches_merged() {
        let path = [
            "ingested",
            "applying",
            "testing",
            "tested-pass",
            "in-review",
            "accepted",
            "gating",
            "queued",
            "gating",
            "in-next",
            "merged",
        ];
        assert_eq!(fold(&path), State::Merged);
    }

    #[test]
    fn late_test_result_after_supersede_is_history_only() {
        assert_eq!(
            fold(&[
                "ingested",
                "applying",
                "testing",
                "superseded",
                "tested-fail"
            ]),
            State::Superseded
        );
    }

    #[test]
    fn queued_series_cannot_be_superseded_only_dropped() {
        let base = [
            "applying",
            "testing",
            "tested-pass",
            "accepted",
            "gating",
            "queued",
        ];
        let mut superseded = base.to_vec();
        superseded.push("superseded");
        assert_eq!(fold(&superseded), State::Queued);
        let mut dropped = base.to_vec();
        dropped.push("dropped");
        assert_eq!(fold(&dropped), State::Dropped);
    }

    #[test]
    fn retest_after_apply_failure_and_reopen() {
        assert_eq!(
            fold(&["applying", "apply-failed", "applying", "testing"]),
            State::Testing
        );
        assert_eq!(fold(&["withdrawn", "reopened"]), State::New);
        assert_eq!(
            fold(&["tested-pass"]),
            State::New,
            "no test without testing"
        );
    }

    #[test]
    fn unknown_kinds_round_trip_and_do_not_move_state() {
        let k = EventKind::from("comment-added");
        assert_eq!(k, EventKind::Other("comment-added".into()));
        assert_eq!(k.as_str(), "comment-added");
        assert_eq!(fold(&["comment-added"]), State::New);
    }

    #[test]
    fn state_names_parse_back() {
        for s in State::ALL {
            assert_eq!(s.as_str().parse::<State>(), Ok(s));
        }
        assert!("bogus".parse::<State>().is_err());
    }
}
