//! The store conformance suite: behaviour every [`Store`] backend must have.
//!
//! A backend's test file implements [`Harness`] (open a connection to one
//! fresh database, as often as asked) and invokes
//! [`conformance!`](crate::conformance) with a constructor for it; each
//! check below becomes one `#[test]`. Checks build messages and assemblies
//! by hand, so they depend on neither the mail parser nor series assembly.
//! Built with the `testkit` feature, as a backend's dev-dependency.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)] // checks panic to fail a test

pub mod jobs;
pub mod messages;
pub mod scope;
pub mod series;

use crate::Store;
use patchgate_mail::{Kind, Message, Person, Subject, Trailer};
use patchgate_series::{Collected, Series, SeriesPatch, Topic};

/// One fresh database per harness; `open` connects to it again each call.
pub trait Harness {
    fn open(&self) -> Box<dyn Store>;
}

/// Expand to one `#[test]` per conformance check, each with a fresh
/// harness from `$make`.
#[macro_export]
macro_rules! conformance {
    ($make:expr) => {
        $crate::conformance!(@tests $make;
            messages::insert_is_idempotent_and_counts_duplicates,
            messages::duplicate_id_within_one_batch_is_stored_once,
            messages::raw_bytes_round_trip_verbatim,
            messages::unusable_messages_are_kept_with_their_reason,
            messages::assembly_mails_are_patches_covers_and_trailer_replies,
            messages::summary_round_trips,
            messages::cursor_advances_with_its_batch_only,
            messages::data_survives_reopening,
            messages::another_handle_sees_the_same_store,
            series::apply_assembly_twice_changes_nothing,
            series::series_keeps_its_id_when_cover_letter_arrives_later,
            series::supersede_records_event_naming_newer_series,
            series::find_series_by_every_reference_kind,
            series::merged_away_series_resolves_to_survivor,
            series::collected_trailers_are_persisted_per_patch,
            series::topic_ids_are_stable_across_revisions,
            series::assembly_that_puts_a_mail_in_two_series_is_refused,
            series::state_is_derived_from_events,
            series::list_filters_by_state_and_topic,
            scope::assembly_mails_are_pending_until_a_scoped_reconcile_covers_them,
            scope::closure_follows_threads_change_ids_and_titles_and_nothing_else,
            scope::scoped_reconcile_leaves_series_outside_the_scope_alone,
            jobs::enqueue_is_idempotent_by_dedupe_key,
            jobs::claim_lease_expiry_and_fencing,
            jobs::exhausted_attempts_fail_the_job,
            jobs::a_job_given_back_waits_out_its_back_off_then_fails_when_spent,
            jobs::concurrent_claims_hand_out_each_job_once,
            jobs::runs_are_deduplicated_and_shared,
            jobs::test_results_come_in_the_order_the_runs_started,
            jobs::latest_verdict_per_branch,
            jobs::finishing_a_job_writes_its_verdict_and_events_together_or_not_at_all,
        );
    };
    (@tests $make:expr; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let harness = $make;
                $crate::testkit::$module::$name(&harness);
            }
        )*
    };
}

/// Reconcile `store` with `assembly`, every mail it holds as the scope: a
/// fresh assembly of all the mails a check has stored.
pub fn apply(
    store: &mut dyn Store,
    assembly: &patchgate_series::Assembly,
    at: i64,
) -> crate::Result<crate::AssemblyChanges> {
    let mut scope: Vec<String> = assembly
        .series
        .iter()
        .flat_map(|s| {
            s.cover
                .iter()
                .cloned()
                .chain(s.patches.iter().flat_map(|p| {
                    std::iter::once(p.message_id.clone())
                        .chain(p.collected.iter().map(|c| c.from_message.clone()))
                }))
        })
        .collect();
    scope.sort_unstable();
    scope.dedup();
    store.apply_assembly_scoped(assembly, &scope, at)
}

/// A message as the parser would give it, built by hand.
pub fn message(id: &str, kind: Kind, subject: &str) -> Message {
    Message {
        id: id.to_string(),
        synthetic_id: false,
        in_reply_to: None,
        references: Vec::new(),
        from: person("Ada Lovelace", "ada@example.org"),
        date: Some(1_700_000_000),
        subject: subject.to_string(),
        list_id: Some("kvm.vger.kernel.org".into()),
        prefix: Subject {
            patch: matches!(kind, Kind::Patch | Kind::Cover),
            version: 1,
            title: subject.to_string(),
            ..Subject::default()
        },
        kind,
        body: String::new(),
        trailers: Vec::new(),
        diff: None,
        files: Vec::new(),
        base_commit: None,
        change_id: None,
        problems: Vec::new(),
    }
}

/// A reply to `parent` (whose thread is `refs`), carrying `trailers`.
pub fn reply(id: &str, parent: &str, refs: &[&str], trailers: &[(&str, &str)]) -> Message {
    let mut m = message(id, Kind::Reply, "Re: a patch");
    m.in_reply_to = Some(parent.to_string());
    m.references = refs.iter().map(|r| r.to_string()).collect();
    m.trailers = trailers.iter().map(|(n, v)| trailer(n, v)).collect();
    m
}

pub fn person(name: &str, email: &str) -> Person {
    Person {
        name: name.into(),
        email: email.into(),
    }
}

pub fn trailer(name: &str, value: &str) -> Trailer {
    Trailer {
        name: name.into(),
        value: value.into(),
    }
}

/// Raw bytes for a message: headers and a body, not parsed by anyone here.
pub fn raw(m: &Message) -> Vec<u8> {
    format!(
        "Message-ID: <{}>\r\nSubject: {}\r\nFrom: Ada <ada@example.org>\r\n\r\nbody of {}\r\n",
        m.id, m.subject, m.id
    )
    .into_bytes()
}

/// Store `messages` in one batch.
pub fn insert(store: &mut dyn Store, messages: &[Message]) -> crate::InsertStats {
    let raws: Vec<Vec<u8>> = messages.iter().map(raw).collect();
    let batch: Vec<crate::NewMessage<'_>> = messages
        .iter()
        .zip(&raws)
        .map(|(message, raw)| crate::NewMessage {
            raw,
            message,
            source: "test.mbox",
        })
        .collect();
    store.insert_messages(&batch).expect("insert batch")
}

/// An assembled series, as assembly would answer, built by hand.
pub fn series(key: &str, cover: Option<&str>, patches: &[(u32, &str)], total: u32) -> Series {
    let present: Vec<u32> = patches.iter().map(|(i, _)| *i).collect();
    let missing: Vec<u32> = (1..=total).filter(|i| !present.contains(i)).collect();
    Series {
        key: key.to_string(),
        cover: cover.map(String::from),
        patches: patches
            .iter()
            .map(|(index, id)| SeriesPatch {
                index: *index,
                message_id: id.to_string(),
                collected: Vec::new(),
            })
            .collect(),
        version: 1,
        total,
        title: format!("title of {key}"),
        author: person("Ada Lovelace", "ada@example.org"),
        date: Some(1_700_000_000),
        complete: missing.is_empty(),
        missing,
        tags: Vec::new(),
        base_commit: None,
        change_id: None,
        topic: key.to_string(),
        superseded_by: None,
    }
}

pub fn collected(name: &str, value: &str, from: &str) -> Collected {
    Collected {
        trailer: trailer(name, value),
        from_message: from.to_string(),
        sender: patchgate_mail::Person::default(),
    }
}

/// An assembly of `series`, with topics grouped by each series' `topic`.
pub fn assembly(mut series: Vec<Series>) -> patchgate_series::Assembly {
    series.sort_by(|a, b| a.key.cmp(&b.key));
    let mut topics: Vec<Topic> = Vec::new();
    let mut by_version: Vec<&Series> = series.iter().collect();
    by_version.sort_by_key(|s| (s.version, s.key.clone()));
    for s in by_version {
        match topics.iter_mut().find(|t| t.key == s.topic) {
            Some(t) => t.series.push(s.key.clone()),
            None => topics.push(Topic {
                key: s.topic.clone(),
                series: vec![s.key.clone()],
            }),
        }
    }
    topics.sort_by(|a, b| a.key.cmp(&b.key));
    patchgate_series::Assembly { series, topics }
}
