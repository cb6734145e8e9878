//! Properties of the reconcile plan, persisted into a store kept in
//! memory the way a backend keeps it: planning an assembly against what
//! its own plan stored plans nothing, and the order mails arrive in (one
//! batch or many) never changes which series, topics and states result.

use patchgate_lifecycle::detail::{Detail, Superseded};
use patchgate_lifecycle::plan::{plan, Ids, Plan, StoredSeries, StoredView, TopicWrite};
use patchgate_lifecycle::{next_state, EventKind, State};
use patchgate_mail::{Kind, Person, Subject, Trailer};
use patchgate_series::{assemble, Assembly, Mail};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq)]
struct Row {
    key: String,
    topic: i64,
    superseded_by: Option<i64>,
    snapshot: String,
    state: State,
    live: bool,
    merged_into: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
struct TopicRow {
    key: String,
    live: bool,
    merged_into: Option<i64>,
}

/// The tables a backend keeps, with ids handed out in order.
#[derive(Debug, Clone, Default, PartialEq)]
struct Memory {
    series: BTreeMap<i64, Row>,
    topics: BTreeMap<i64, TopicRow>,
    members: HashMap<String, i64>,
    events: Vec<(i64, EventKind, Value)>,
}

impl Memory {
    fn view(&self) -> StoredView {
        StoredView {
            series: self
                .series
                .iter()
                .filter(|(_, r)| r.live)
                .map(|(&id, r)| {
                    let s = StoredSeries {
                        topic_id: r.topic,
                        superseded_by: r.superseded_by,
                        snapshot: r.snapshot.clone(),
                        state: Some(r.state),
                    };
                    (id, s)
                })
                .collect(),
            member_of: self.members.clone(),
            live_topics: self
                .topics
                .iter()
                .filter(|(_, t)| t.live)
                .map(|(&id, _)| id)
                .collect(),
        }
    }

    fn append(&mut self, id: i64, e: patchgate_lifecycle::Event) {
        let row = self.series.get_mut(&id).expect("events name stored series");
        row.state = next_state(row.state, &e.kind);
        self.events.push((id, e.kind, e.detail));
    }

    /// Persist `p` as the SQLite backend does.
    fn persist(&mut self, a: &Assembly, p: &Plan) {
        let mut ids = Ids::default();
        for t in &p.topics {
            match t {
                TopicWrite::Keep { id, key } => {
                    self.topics.get_mut(id).expect("kept topic").key = key.clone()
                }
                TopicWrite::Create { key } => {
                    let id = self.topics.len() as i64 + 1;
                    let row = TopicRow {
                        key: key.clone(),
                        live: true,
                        merged_into: None,
                    };
                    self.topics.insert(id, row);
                    ids.topics.push(id);
                }
            }
        }
        for n in &p.new_series {
            let id = self.series.len() as i64 + 1;
            let row = Row {
                key: a.series[n.series].key.clone(),
                topic: ids.topic(n.topic),
                superseded_by: None,
                snapshot: String::new(),
                state: State::New,
                live: true,
                merged_into: None,
            };
            self.series.insert(id, row);
            ids.series.push(id);
        }
        let cleared: BTreeSet<i64> = p
            .writes
            .iter()
            .map(|w| ids.series(w.id))
            .chain(p.absorbed.iter().map(|x| x.id))
            .collect();
        self.members.retain(|_, s| !cleared.contains(s));
        for w in &p.writes {
            let s = &a.series[w.series];
            let id = ids.series(w.id);
            let row = self.series.get_mut(&id).expect("written series");
            row.key = s.key.clone();
            row.topic = ids.topic(w.topic);
            row.superseded_by = w.superseded_by.map(|r| ids.series(r));
            row.snapshot = w.snapshot.clone();
            for m in s
                .cover
                .iter()
                .chain(s.patches.iter().map(|p| &p.message_id))
            {
                self.members.insert(m.clone(), id);
            }
            for e in &w.events {
                self.append(id, e.event(&ids, 0));
            }
        }
        for x in &p.absorbed {
            let row = self.series.get_mut(&x.id).expect("absorbed series");
            row.live = false;
            row.merged_into = x.into.map(|r| ids.series(r));
            row.superseded_by = None;
            self.append(x.id, x.event(&ids, 0));
        }
        for r in &p.retired {
            let t = self.topics.get_mut(&r.id).expect("retired topic");
            t.live = false;
            t.merged_into = r.into.map(|t| ids.topic(t));
        }
    }

    fn reconcile(&mut self, mails: &[Mail]) -> Plan {
        let a = assemble(mails);
        let p = plan(&a, &self.view()).expect("assembly partitions its mails");
        self.persist(&a, &p);
        p
    }

    /// The live series by what they are, not by the ids they were given:
    /// (snapshot, topic key, key of the superseding series, state).
    fn canonical(&self) -> BTreeSet<(String, String, Option<String>, &'static str)> {
        let key = |id: i64| self.series.get(&id).map(|r| r.key.clone());
        self.series
            .values()
            .filter(|r| r.live)
            .map(|r| {
                let topic = self.topics.get(&r.topic).map(|t| t.key.clone());
                (
                    r.snapshot.clone(),
                    topic.unwrap_or_default(),
                    r.superseded_by.and_then(key),
                    r.state.as_str(),
                )
            })
            .collect()
    }
}

/// Ids from a small pool, so that threading headers often hit real mails,
/// duplicate deliveries happen, and circles are possible.
fn id() -> impl Strategy<Value = String> {
    (0u8..24).prop_map(|n| format!("m{n}@x"))
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => Just(Kind::Patch),
        2 => Just(Kind::Cover),
        3 => Just(Kind::Reply),
        1 => Just(Kind::Other),
        1 => Just(Kind::PullRequest),
        1 => Just(Kind::Unusable),
    ]
}

fn person() -> impl Strategy<Value = Person> {
    prop_oneof![
        Just(Person {
            name: "Ada".into(),
            email: "ada@x".into()
        }),
        Just(Person {
            name: "Bob".into(),
            email: "bob@x".into()
        }),
        Just(Person {
            name: String::new(),
            email: String::new()
        }),
    ]
}

fn subject() -> impl Strategy<Value = Subject> {
    (
        any::<bool>(),
        1u32..4,
        prop::option::of(0u32..5),
        prop::option::of(0u32..5),
        prop_oneof![Just("Work"), Just("work "), Just("Other"), Just("")],
        any::<bool>(),
        // No tag, or a stable branch.
        prop_oneof![2 => Just(None), 1 => Just(Some("5.10")), 1 => Just(Some("5.15.y"))],
    )
        .prop_map(
            |(reply, version, index, total, title, resend, branch)| Subject {
                reply,
                patch: true,
                resend,
                version,
                index,
                total,
                title: title.into(),
                tags: branch.into_iter().map(String::from).collect(),
                ..Subject::default()
            },
        )
}

fn trailer() -> impl Strategy<Value = Trailer> {
    (
        prop_oneof![Just("Reviewed-by"), Just("Acked-by")],
        prop_oneof![Just("R <r@x>"), Just("M <m@x>")],
    )
        .prop_map(|(n, v)| Trailer {
            name: n.into(),
            value: v.into(),
        })
}

fn mail() -> impl Strategy<Value = Mail> {
    (
        id(),
        prop::option::of(id()),
        prop::collection::vec(id(), 0..3),
        person(),
        prop::option::of(0i64..20_000),
        subject(),
        kind(),
        prop::collection::vec(trailer(), 0..2),
        prop::option::of(prop_oneof![
            Just("cid-a".to_owned()),
            Just("cid-b".to_owned())
        ]),
    )
        .prop_map(
            |(id, irt, refs, from, date, prefix, kind, trailers, change_id)| Mail {
                id,
                in_reply_to: irt,
                references: refs,
                from,
                date,
                prefix,
                kind,
                trailers,
                base_commit: None,
                change_id,
                author: None,
            },
        )
}

/// Mails with unique ids, each delivered one to three times.
fn mailbox() -> impl Strategy<Value = Vec<Mail>> {
    prop::collection::vec((mail(), 1usize..4), 0..30).prop_map(|ms| {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for (m, copies) in ms {
            if seen.insert(m.id.clone()) {
                out.extend(std::iter::repeat_n(m, copies));
            }
        }
        out
    })
}

/// Feed `mails` in batches cut at `cuts` (fractions of the whole), each
/// reconcile assembling everything arrived so far, as a full apply does.
fn arrive(mails: &[Mail], cuts: &[usize]) -> Memory {
    let mut m = Memory::default();
    let mut ends: Vec<usize> = cuts.iter().map(|c| c % (mails.len() + 1)).collect();
    ends.push(mails.len());
    ends.sort_unstable();
    for end in ends {
        m.reconcile(&mails[..end]);
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_plan_applied_twice_changes_nothing(mails in mailbox(), cuts in prop::collection::vec(any::<usize>(), 0..3)) {
        let mut m = arrive(&mails, &cuts);
        let before = m.clone();
        let a = assemble(&mails);
        let again = plan(&a, &m.view()).expect("assembly partitions its mails");
        prop_assert!(again.writes.is_empty(), "{:?}", again.writes);
        prop_assert!(again.new_series.is_empty() && again.absorbed.is_empty() && again.retired.is_empty());
        let kept = again.topics.iter().all(|t| matches!(t, TopicWrite::Keep { .. }));
        prop_assert!(kept);
        prop_assert_eq!(again.unchanged, a.series.len());
        m.persist(&a, &again);
        prop_assert_eq!(m, before);
    }

    #[test]
    fn arrival_order_never_changes_the_result(
        (mails, shuffled) in mailbox().prop_flat_map(|m| (Just(m.clone()), Just(m).prop_shuffle())),
        cuts in prop::collection::vec(any::<usize>(), 0..4),
    ) {
        let once = arrive(&mails, &[]);
        let batched = arrive(&shuffled, &cuts);
        prop_assert_eq!(once.canonical(), batched.canonical());
        // Every live series is superseded exactly when a newer revision
        // supersedes it, however it got there.
        for r in batched.series.values().filter(|r| r.live) {
            prop_assert_eq!(r.state == State::Superseded, r.superseded_by.is_some());
        }
    }
}

#[test]
fn superseded_event_names_the_resolved_id() {
    let ids = Ids {
        topics: vec![],
        series: vec![41],
    };
    let e = patchgate_lifecycle::plan::PlannedEvent::Superseded {
        by: patchgate_lifecycle::plan::SeriesRef::New(0),
    }
    .event(&ids, 5);
    assert_eq!(Superseded::read(&e.detail).by, Some(41));
    assert_eq!(
        (e.kind, e.actor.as_str()),
        (EventKind::Superseded, "assembly")
    );
}
