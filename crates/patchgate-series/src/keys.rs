//! Relation keys: what ties one mail to the others in [`crate::assemble`].
//!
//! Two mails can influence each other's series, topic or collected trailers
//! only when they share a key. A store that indexes these keys can therefore
//! assemble a part of its archive (the mails connected to some new ones) and
//! get exactly the answer a full assembly would give for that part, without
//! reading the rest.
//!
//! The keys mirror the rules of the stages, and must change with them:
//!
//! - threading (`thread`, `trailers`, `topic`): a mail's own Message-ID and
//!   every id it answers, so mails answering one another, or answering the
//!   same (possibly absent) message, meet; this also covers siblings under
//!   the root of a series or one absent message (`thread`, rule 4), which
//!   join by threading alone, whoever sent them;
//! - marker grouping of unthreaded posts (`thread`, rule 3): author address,
//!   version, `N`, and the hour the post was sent in (and the next hour, so
//!   two posts within `MARKER_WINDOW` of each other always share one). The
//!   hour matters: every cover letter `git send-email` posts is unthreaded,
//!   and without it all of one author's v1 covers of three patches, with
//!   everything threaded under them, would be one connected part;
//! - b4 change-id (`topic`);
//! - same author and title (`topic`), with the title folded by
//!   [`normalize_title`].
//!
//! Keys may over-connect (a store may hash them); they must never miss a
//! relation. The stable branch (`[PATCH 5.10]`), which marker grouping and
//! topics also compare, only ever keeps mails apart, so it is in no key.
//!
//! One relation is not keyed: a post whose thread headers form a circle with
//! other posts loses one link and is then grouped like an unthreaded post.
//! Such hostile headers are left to a full assembly.

use crate::index::answered;
use crate::thread::{role_of, Role, MARKER_WINDOW};
use crate::Mail;

/// Fold a title the way revisions are matched by title: whitespace runs
/// collapsed to one space, lower case.
pub fn normalize_title(title: &str) -> String {
    crate::topic::normalize(title)
}

/// Every relation key of one mail. Distinct kinds of key carry distinct
/// prefixes, so they never collide with each other.
pub fn relation_keys(m: &Mail) -> Vec<String> {
    let mut keys = vec![format!("id\0{}", m.id)];
    let mut threaded = false;
    for id in answered(m) {
        keys.push(format!("id\0{id}"));
        threaded = true;
    }
    let role = role_of(m);
    if role.is_none() {
        return keys;
    }
    let email = m.from.email.to_ascii_lowercase();
    // An undated post neither joins nor is joined by marker grouping.
    if let (false, true, Some(date)) = (threaded, role != Some(Role::Single), m.date) {
        let total = m.prefix.total.map_or_else(String::new, |n| n.to_string());
        let hour = date.div_euclid(MARKER_WINDOW);
        for h in [hour, hour.saturating_add(1)] {
            keys.push(format!(
                "marker\0{email}\0{}\0{total}\0{h}",
                m.prefix.version
            ));
        }
    }
    if let Some(cid) = m.change_id.as_deref().filter(|c| !c.is_empty()) {
        keys.push(format!("change-id\0{cid}"));
    }
    let title = normalize_title(&m.prefix.title);
    if !title.is_empty() && !email.is_empty() {
        keys.push(format!("title\0{email}\0{title}"));
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::relation_keys;
    use crate::Mail;
    use patchgate_mail::{Kind, Person, Subject};

    fn cover(id: &str, date: i64) -> Mail {
        Mail {
            id: id.into(),
            in_reply_to: None,
            references: vec![],
            from: Person {
                name: "A".into(),
                email: "a@x".into(),
            },
            date: Some(date),
            prefix: Subject {
                patch: true,
                version: 1,
                index: Some(0),
                total: Some(3),
                title: format!("work {id}"),
                ..Subject::default()
            },
            kind: Kind::Cover,
            trailers: vec![],
            base_commit: None,
            change_id: None,
            author: None,
        }
    }

    fn share_a_key(a: &Mail, b: &Mail) -> bool {
        let kb = relation_keys(b);
        relation_keys(a).iter().any(|k| kb.contains(k))
    }

    #[test]
    fn unthreaded_posts_within_the_marker_window_share_a_key_and_far_ones_do_not() {
        let t = 1_700_000_000 - 1_700_000_000 % 3600 + 3590; // ten seconds before an hour
        assert!(
            share_a_key(&cover("a", t), &cover("b", t + 20)),
            "across an hour's end"
        );
        assert!(
            share_a_key(&cover("a", t), &cover("b", t + 3600)),
            "an hour apart"
        );
        assert!(
            !share_a_key(&cover("a", t), &cover("b", t + 86_400)),
            "a day apart"
        );
    }
}
