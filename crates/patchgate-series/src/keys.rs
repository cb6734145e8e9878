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

/// A relation key hashed for storage: FNV-1a, 64 bits, as a signed
/// integer. Stored in databases, so it must never change (std's hasher
/// makes no such promise). Collisions only widen a closure.
pub fn relation_key_hash(key: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

/// The hashed relation keys of one mail, sorted, each once.
pub fn hashed_relation_keys(m: &Mail) -> Vec<i64> {
    let mut keys: Vec<i64> = relation_keys(m)
        .iter()
        .map(|k| relation_key_hash(k))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// [`hashed_relation_keys`] as stored with a mail: 8 bytes each, little
/// endian.
pub fn encode_relation_keys(m: &Mail) -> Vec<u8> {
    hashed_relation_keys(m)
        .iter()
        .flat_map(|k| k.to_le_bytes())
        .collect()
}

/// The hashed keys of [`encode_relation_keys`]; a trailing partial key is
/// ignored.
pub fn decode_relation_keys(blob: &[u8]) -> impl Iterator<Item = i64> + '_ {
    blob.chunks_exact(8).map(|c| {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        i64::from_le_bytes(b)
    })
}

#[cfg(test)]
mod tests {
    use super::{
        decode_relation_keys, encode_relation_keys, hashed_relation_keys, relation_key_hash,
        relation_keys,
    };
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

    #[test]
    fn key_hash_is_fnv1a_and_never_changes() {
        // Stored in databases: a different value would orphan their keys.
        assert_eq!(relation_key_hash(""), 0xcbf2_9ce4_8422_2325_u64 as i64);
        assert_eq!(relation_key_hash("a"), 0xaf63_dc4c_8601_ec8c_u64 as i64);
        assert_eq!(
            relation_key_hash("id\0m1@x"),
            0x1ea9_aa19_dd1f_ffca_u64 as i64
        );
    }

    #[test]
    fn stored_keys_are_pinned_and_round_trip() {
        let m = cover("a", 1_700_000_000);
        let keys = hashed_relation_keys(&m);
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted, each once");
        let blob = encode_relation_keys(&m);
        assert_eq!(blob.len(), keys.len() * 8);
        assert_eq!(decode_relation_keys(&blob).collect::<Vec<_>>(), keys);
        assert_eq!(&blob[..8], &keys[0].to_le_bytes());
        assert!(keys.contains(&relation_key_hash("id\0a")));
        assert_eq!(decode_relation_keys(&[1, 2, 3]).count(), 0);
    }
}
