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
//! [`transition`] says what an event does in a state, or why the lifecycle
//! refuses it ([`Refused`]). When history is folded, a refused event is kept
//! but leaves the state as it is: a late test result for a series already
//! superseded, say, is history, not a new state.

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
    /// Every kind this version knows by name.
    pub const NAMED: [EventKind; 25] = [
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

/// Why the lifecycle refuses an event in a state: the event stays in the
/// history, the state stays where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub from: State,
    pub event: EventKind,
    /// What the event needs, and so what to do instead.
    pub why: &'static str,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a series that is {} cannot take a {} event: {}",
            self.from, self.event, self.why
        )
    }
}

impl std::error::Error for Refused {}

/// The state after `kind` happens in `state`, or why the lifecycle does
/// not allow it there. Kinds that are history only (`ingested`,
/// `verdict`, `run-finished`, …) are allowed anywhere and keep the state.
pub fn transition(state: State, kind: &EventKind) -> Result<State, Refused> {
    use State as S;
    let (allowed, to, why) = match kind {
        EventKind::Applying => (
            matches!(
                state,
                S::New
                    | S::Applying
                    | S::ApplyFailed
                    | S::Testing
                    | S::TestedPass
                    | S::TestedFail
                    | S::InReview
                    | S::ChangesRequested
            ),
            S::Applying,
            "only an open series not yet accepted is tested; reopen it first if it was closed",
        ),
        EventKind::ApplyFailed => (
            state == S::Applying,
            S::ApplyFailed,
            "only a series being applied can fail to apply; record `applying` first",
        ),
        EventKind::Testing => (
            matches!(state, S::Applying | S::Testing),
            S::Testing,
            "a series is tested after it applied; record `applying` first",
        ),
        EventKind::TestedPass | EventKind::TestedFail => (
            state == S::Testing,
            if *kind == EventKind::TestedPass {
                S::TestedPass
            } else {
                S::TestedFail
            },
            "a test result follows `testing`; test the series again to record one",
        ),
        EventKind::InReview => (
            matches!(state, S::TestedPass | S::TestedFail | S::ChangesRequested),
            S::InReview,
            "review starts once the series has a test result; test it first",
        ),
        EventKind::ChangesRequested => (
            matches!(state, S::TestedPass | S::TestedFail | S::InReview),
            S::ChangesRequested,
            "changes are requested on a tested series or one in review; test it first",
        ),
        // A maintainer may accept a series at any point before it is on a
        // branch: gating is what holds it to the rules.
        EventKind::Accepted => (
            state.is_open() && !matches!(state, S::Accepted | S::Gating),
            S::Accepted,
            "only an open series not already accepted can be accepted",
        ),
        EventKind::Gating => (
            matches!(state, S::Accepted | S::Queued),
            S::Gating,
            "only an accepted or queued series is gated; accept it first",
        ),
        EventKind::Queued => (
            state == S::Gating,
            S::Queued,
            "a series is queued by gating; gate it first",
        ),
        EventKind::InNext => (
            state == S::Gating,
            S::InNext,
            "a series reaches next by gating; gate it first",
        ),
        // Merged by way of the branches, or found landed however it got
        // there (its patches change nothing on the branch any more).
        EventKind::Merged => (
            state.is_open() || matches!(state, S::Queued | S::InNext),
            S::Merged,
            "the series is closed already; reopen it first if it landed after all",
        ),
        EventKind::Dropped => (
            matches!(state, S::Queued | S::InNext | S::Gating),
            S::Dropped,
            "only a series being gated, queued or in next can be dropped; \
             withdraw or reject an open one instead",
        ),
        EventKind::Superseded | EventKind::Withdrawn | EventKind::Rejected => (
            state.is_open(),
            match kind {
                EventKind::Superseded => S::Superseded,
                EventKind::Withdrawn => S::Withdrawn,
                _ => S::Rejected,
            },
            "only an open series can be closed; once queued or in next, drop it instead",
        ),
        EventKind::Reopened => (
            matches!(state, S::Superseded | S::Withdrawn | S::Rejected),
            S::New,
            "only a superseded, withdrawn or rejected series can be reopened",
        ),
        EventKind::Untested => (
            matches!(state, S::Applying | S::Testing),
            S::New,
            "only a series being applied or tested can stop before its verdict",
        ),
        EventKind::Ingested
        | EventKind::Updated
        | EventKind::Absorbed
        | EventKind::RunFinished
        | EventKind::Verdict
        | EventKind::ReportSent
        | EventKind::BranchMoved
        | EventKind::Other(_) => return Ok(state),
    };
    if allowed {
        Ok(to)
    } else {
        Err(Refused {
            from: state,
            event: kind.clone(),
            why,
        })
    }
}

/// The state after `kind` happened in `state`, for folding history: an
/// event [`transition`] refuses is history only and leaves the state.
pub fn next_state(state: State, kind: &EventKind) -> State {
    transition(state, kind).unwrap_or(state)
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

    /// The whole table: for each lifecycle kind, the states it is allowed
    /// from and where it leads. Every other (state, kind) pair is refused.
    #[test]
    fn transition_table() {
        use State as S;
        let open = [
            S::New,
            S::Applying,
            S::ApplyFailed,
            S::Testing,
            S::TestedPass,
            S::TestedFail,
            S::InReview,
            S::ChangesRequested,
            S::Accepted,
            S::Gating,
        ];
        let table: Vec<(&str, Vec<State>, State)> = vec![
            ("applying", open[..8].to_vec(), S::Applying),
            ("apply-failed", vec![S::Applying], S::ApplyFailed),
            ("testing", vec![S::Applying, S::Testing], S::Testing),
            ("tested-pass", vec![S::Testing], S::TestedPass),
            ("tested-fail", vec![S::Testing], S::TestedFail),
            (
                "in-review",
                vec![S::TestedPass, S::TestedFail, S::ChangesRequested],
                S::InReview,
            ),
            (
                "changes-requested",
                vec![S::TestedPass, S::TestedFail, S::InReview],
                S::ChangesRequested,
            ),
            ("accepted", open[..8].to_vec(), S::Accepted),
            ("gating", vec![S::Accepted, S::Queued], S::Gating),
            ("queued", vec![S::Gating], S::Queued),
            ("in-next", vec![S::Gating], S::InNext),
            (
                "merged",
                open.iter().copied().chain([S::Queued, S::InNext]).collect(),
                S::Merged,
            ),
            ("dropped", vec![S::Queued, S::InNext, S::Gating], S::Dropped),
            ("superseded", open.to_vec(), S::Superseded),
            ("withdrawn", open.to_vec(), S::Withdrawn),
            ("rejected", open.to_vec(), S::Rejected),
            (
                "reopened",
                vec![S::Superseded, S::Withdrawn, S::Rejected],
                S::New,
            ),
            ("untested", vec![S::Applying, S::Testing], S::New),
        ];
        for (kind, from, to) in &table {
            let k = EventKind::from(*kind);
            for s in State::ALL {
                match transition(s, &k) {
                    Ok(next) => {
                        assert!(from.contains(&s), "{kind} from {s} should be refused");
                        assert_eq!(next, *to, "{kind} from {s}");
                    }
                    Err(r) => {
                        assert!(!from.contains(&s), "{kind} from {s} should be allowed");
                        assert_eq!((r.from, &r.event), (s, &k));
                        assert_eq!(next_state(s, &k), s, "a refused event keeps the state");
                    }
                }
            }
        }
        let lifecycle: Vec<&str> = table.iter().map(|(k, ..)| *k).collect();
        for k in EventKind::NAMED
            .into_iter()
            .filter(|k| !lifecycle.contains(&k.as_str()))
        {
            for s in State::ALL {
                assert_eq!(transition(s, &k), Ok(s), "{k} is history only");
            }
        }
    }

    #[test]
    fn refusal_says_what_to_do() {
        let r = transition(State::Superseded, &EventKind::TestedFail).expect_err("refused");
        assert_eq!(
            r.to_string(),
            "a series that is superseded cannot take a tested-fail event: \
             a test result follows `testing`; test the series again to record one"
        );
    }
}
