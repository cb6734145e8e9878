//! The deduplicated, id-sorted table of mails every other stage works on.
//!
//! Everything downstream indexes mails by their position in this table, and
//! the table is sorted by Message-ID, so no later step can observe the order
//! the caller passed the mails in. That is the root of `assemble`'s
//! order-independence.

use std::cmp::Ordering;
use std::collections::HashMap;

use patchgate_mail::{Kind, Person};

use crate::Mail;

/// Mails by id: one entry per Message-ID, sorted by id.
#[derive(Debug)]
pub(crate) struct Table<'a> {
    pub mails: Vec<&'a Mail>,
    by_id: HashMap<&'a str, usize>,
}

impl<'a> Table<'a> {
    /// Deduplicate by Message-ID. When two deliveries of one id differ (a
    /// list footer, a re-encoded body), one is chosen by content alone, so the
    /// choice never depends on which arrived first.
    pub fn new(input: &'a [Mail]) -> Self {
        let mut sorted: Vec<&Mail> = input.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| preference(a, b)));
        sorted.dedup_by(|later, earlier| later.id == earlier.id);
        let by_id = sorted
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.as_str(), i))
            .collect();
        Table {
            mails: sorted,
            by_id,
        }
    }

    pub fn len(&self) -> usize {
        self.mails.len()
    }

    pub fn lookup(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Sort key that stands for arrival time: by date, undated mail last,
    /// ties broken by id (the table position).
    pub fn time_key(&self, i: usize) -> (i64, usize) {
        (self.mails[i].date.unwrap_or(i64::MAX), i)
    }

    /// The ids a mail answers, nearest first: `In-Reply-To`, then
    /// `References` from newest to oldest. The mail's own id and empty
    /// values (broken headers) are skipped.
    pub fn answered<'s>(&'s self, i: usize) -> impl Iterator<Item = &'a str> + 's {
        answered(self.mails[i])
    }
}

/// The ids one mail answers, nearest first (see [`Table::answered`]).
pub(crate) fn answered(m: &Mail) -> impl Iterator<Item = &str> {
    m.in_reply_to
        .iter()
        .chain(m.references.iter().rev())
        .map(|s| s.as_str())
        .filter(move |s| !s.is_empty() && *s != m.id)
}

/// Which of two deliveries of one Message-ID to keep: the one that says more
/// about patch flow (a patch over a reply, more trailers, a date), and as a
/// last resort the smaller by content, which is arbitrary but stable.
fn preference(a: &Mail, b: &Mail) -> Ordering {
    kind_rank(a.kind)
        .cmp(&kind_rank(b.kind))
        .then_with(|| b.trailers.len().cmp(&a.trailers.len()))
        .then_with(|| b.date.is_some().cmp(&a.date.is_some()))
        .then_with(|| format!("{a:?}").cmp(&format!("{b:?}")))
}

fn kind_rank(k: Kind) -> u8 {
    match k {
        Kind::Patch => 0,
        Kind::Cover => 1,
        Kind::PullRequest => 2,
        Kind::Reply => 3,
        Kind::Other => 4,
        Kind::Unusable => 5,
    }
}

/// One author posted both mails: same address, or (for people whose
/// address differs between mails of one posting) the same non-empty name.
pub(crate) fn same_author(a: &Person, b: &Person) -> bool {
    let email = !a.email.is_empty() && a.email.eq_ignore_ascii_case(&b.email);
    let name = !a.name.trim().is_empty() && a.name.trim().eq_ignore_ascii_case(b.name.trim());
    email || name
}

/// The stable branch a backport names in its prefix (`[PATCH 5.10 1/2]`,
/// `[PATCH 5.15.y]`, `[PATCH stable-6.1]`, `[PATCH linux-5.4.y]`), as its
/// numbers. One change backported to two branches is two pieces of work:
/// postings for different branches are never one series, nor revisions of
/// each other.
pub(crate) fn stable_branch(tags: &[String]) -> Option<String> {
    tags.iter().find_map(|tag| {
        let t = tag.to_ascii_lowercase();
        let t = ["linux-", "stable-", "v"]
            .iter()
            .find_map(|p| t.strip_prefix(p))
            .unwrap_or(&t);
        let t = [".y", "-stable"]
            .iter()
            .find_map(|s| t.strip_suffix(s))
            .unwrap_or(t);
        let parts: Vec<&str> = t.split('.').collect();
        let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        ((2..=3).contains(&parts.len()) && parts.iter().all(numeric)).then(|| t.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::stable_branch;

    fn branch(tags: &[&str]) -> Option<String> {
        stable_branch(&tags.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn stable_branch_is_read_from_the_ways_backports_are_tagged() {
        for tags in [
            &["5.10"][..],
            &["5.10.y"],
            &["stable", "5.10"],
            &["linux-5.10.y"],
            &["stable-5.10"],
            &["v5.10"],
        ] {
            assert_eq!(branch(tags).as_deref(), Some("5.10"), "{tags:?}");
        }
        for tags in [
            &["net-next"][..],
            &["kvm-unit-tests"],
            &["RFC"],
            &["5"],
            &["1.2.3.4"],
            &[".5"],
        ] {
            assert_eq!(branch(tags), None, "{tags:?}");
        }
    }
}
