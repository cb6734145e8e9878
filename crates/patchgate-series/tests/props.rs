//! Properties of `assemble`: the input order never matters, arbitrary input
//! never panics, no posted patch is ever lost or counted twice, and each
//! part of the input connected by relation keys assembles alone as it does
//! among all the rest.

use patchgate_mail::{Kind, Person, Subject, Trailer};
use patchgate_series::{assemble, Mail};
use proptest::prelude::*;

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn shuffling_the_input_never_changes_the_assembly(
        (mails, shuffled) in mailbox().prop_flat_map(|m| (Just(m.clone()), Just(m).prop_shuffle()))
    ) {
        prop_assert_eq!(assemble(&mails), assemble(&shuffled));
    }

    #[test]
    fn conflicting_deliveries_of_one_id_are_resolved_independent_of_order(
        (mails, shuffled) in prop::collection::vec(mail(), 0..30)
            .prop_flat_map(|m| (Just(m.clone()), Just(m).prop_shuffle()))
    ) {
        prop_assert_eq!(assemble(&mails), assemble(&shuffled));
    }

    #[test]
    fn every_posted_patch_lands_in_exactly_one_series(mails in mailbox()) {
        let a = assemble(&mails);
        let mut placed: Vec<&str> = a.series.iter()
            .flat_map(|s| s.patches.iter().map(|p| p.message_id.as_str()).chain(s.cover.as_deref()))
            .collect();
        placed.sort_unstable();
        let before = placed.len();
        placed.dedup();
        prop_assert_eq!(before, placed.len());
        let posts: std::collections::BTreeSet<&str> = mails.iter()
            .filter(|m| matches!(m.kind, Kind::Patch | Kind::Cover) && !m.prefix.reply)
            .map(|m| m.id.as_str())
            .collect();
        prop_assert_eq!(posts.into_iter().collect::<Vec<_>>(), placed);
        // Every series sits in exactly one topic.
        let in_topics: usize = a.topics.iter().map(|t| t.series.len()).sum();
        prop_assert_eq!(in_topics, a.series.len());
    }

    #[test]
    fn arbitrary_strings_never_panic(
        mails in prop::collection::vec(
            (any::<String>(), prop::option::of(any::<String>()), any::<Option<i64>>(),
             any::<Option<u32>>(), any::<Option<u32>>(), any::<u32>()),
            0..20,
        )
    ) {
        let mails: Vec<Mail> = mails.into_iter().map(|(id, irt, date, index, total, version)| Mail {
            id: id.clone(),
            in_reply_to: irt,
            references: vec![id],
            from: Person::default(),
            date,
            prefix: Subject { index, total, version, ..Subject::default() },
            kind: Kind::Patch,
            trailers: Vec::new(),
            base_commit: None,
            change_id: None,
            author: None,
        }).collect();
        let _ = assemble(&mails);
    }
}

/// The mails of `mails` split into the parts that share relation keys.
fn connected_parts(mails: &[Mail]) -> Vec<Vec<Mail>> {
    let mut owner: std::collections::HashMap<String, usize> = Default::default();
    let mut parent: Vec<usize> = (0..mails.len()).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for (i, m) in mails.iter().enumerate() {
        for k in patchgate_series::relation_keys(m) {
            let j = *owner.entry(k).or_insert(i);
            let (a, b) = (find(&mut parent, i), find(&mut parent, j));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut parts: std::collections::BTreeMap<usize, Vec<Mail>> = Default::default();
    for (i, m) in mails.iter().enumerate() {
        let r = find(&mut parent, i);
        parts.entry(r).or_default().push(m.clone());
    }
    parts.into_values().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn assembling_each_connected_part_alone_gives_the_whole_answer(mails in mailbox()) {
        let whole = assemble(&mails);
        let mut series = Vec::new();
        let mut topics = Vec::new();
        for part in connected_parts(&mails) {
            let a = assemble(&part);
            series.extend(a.series);
            topics.extend(a.topics);
        }
        series.sort_by(|a, b| a.key.cmp(&b.key));
        topics.sort_by(|a, b| a.key.cmp(&b.key));
        prop_assert_eq!(whole.series, series);
        prop_assert_eq!(whole.topics, topics);
    }
}
