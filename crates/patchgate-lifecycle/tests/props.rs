//! Folding any history is total and stays inside the lifecycle.

use patchgate_lifecycle::{next_state, state_from_events, transition, EventKind, State};
use proptest::prelude::*;
use std::collections::BTreeSet;

fn kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        9 => proptest::sample::select(EventKind::NAMED.to_vec()),
        1 => "[a-z-]{0,12}".prop_map(EventKind::from),
    ]
}

/// The states reachable from `new` by allowed transitions.
fn reachable() -> BTreeSet<&'static str> {
    let mut seen = BTreeSet::from([State::New.as_str()]);
    let mut todo = vec![State::New];
    while let Some(s) = todo.pop() {
        for k in EventKind::NAMED {
            if let Ok(next) = transition(s, &k) {
                if seen.insert(next.as_str()) {
                    todo.push(next);
                }
            }
        }
    }
    seen
}

proptest! {
    #[test]
    fn folding_any_history_stays_reachable(kinds in proptest::collection::vec(kind(), 0..64)) {
        let reachable = reachable();
        let mut state = State::New;
        for k in &kinds {
            let next = next_state(state, k);
            match transition(state, k) {
                Ok(to) => prop_assert_eq!(next, to),
                Err(refused) => {
                    prop_assert_eq!(next, state);
                    prop_assert!(!refused.to_string().is_empty());
                }
            }
            prop_assert!(reachable.contains(next.as_str()), "{} unreachable", next);
            state = next;
        }
        prop_assert_eq!(state_from_events(&kinds), state);
    }
}
