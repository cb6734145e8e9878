//! Trailers given in replies (`Reviewed-by:` under a patch, `Acked-by:` under
//! a cover letter) collected onto the patches they are meant for.
//!
//! A reply gives its trailers to the post it answers: the first of its
//! `In-Reply-To`, then `References` newest first, that is a patch or cover
//! letter of a series. When a reply names only other replies (clients that
//! trim `References`), the reply it answers is followed instead, so a reply
//! to a reply still counts for the post at the root of the chain.
//!
//! Only trailers that name a person vouching for the patch (`Reviewed-by`,
//! `Acked-by`, `Tested-by`, `Reported-by`… every `*-by`) are collected.
//! `Link:`, `Fixes:` or `Cc:` lines in a review are part of the discussion
//! (pointers to other threads, a suspected culprit), and adding them to the
//! commit would be the reviewer's call, not the tool's.

use std::collections::HashSet;

use crate::index::Table;
use crate::{Collected, Series};

/// Where a mail sits in the assembled series.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Member {
    /// Cover letter of series `.0`.
    Cover(usize),
    /// Patch at position `.1` of `series[.0].patches`.
    Patch(usize, usize),
}

impl Member {
    pub fn series(self) -> usize {
        match self {
            Member::Cover(s) | Member::Patch(s, _) => s,
        }
    }
}

/// For every mail that is not a member, the member it ultimately answers.
pub(crate) fn targets(table: &Table, members: &[Option<Member>]) -> Vec<Option<usize>> {
    const UNKNOWN: u8 = 0;
    const ON_PATH: u8 = 1;
    const KNOWN: u8 = 2;
    let n = table.len();
    let mut target: Vec<Option<usize>> = vec![None; n];
    let mut state = vec![UNKNOWN; n];
    let mut path = Vec::new();
    for start in 0..n {
        if members[start].is_some() {
            continue;
        }
        // Walk up through replies until a mail names a member directly, or
        // the chain ends or turns in a circle; everything on the path shares
        // that answer. Iterative, so a hostile depth cannot blow the stack.
        path.clear();
        let mut at = start;
        let mut answer = None;
        loop {
            if state[at] == KNOWN {
                answer = target[at];
                break;
            }
            if state[at] == ON_PATH {
                break;
            }
            state[at] = ON_PATH;
            path.push(at);
            let mut next_reply = None;
            let mut direct = None;
            for id in table.answered(at) {
                if let Some(j) = table.lookup(id) {
                    if members[j].is_some() {
                        direct = Some(j);
                        break;
                    }
                    next_reply.get_or_insert(j);
                }
            }
            if direct.is_some() {
                answer = direct;
                break;
            }
            match next_reply {
                Some(j) => at = j,
                None => break,
            }
        }
        for &p in &path {
            state[p] = KNOWN;
            target[p] = answer;
        }
    }
    target
}

/// A trailer by which a person vouches for the patch (`Reviewed-by`…).
fn vouches(t: &patchgate_mail::Trailer) -> bool {
    let name = t.name.as_bytes();
    name.len() > 3 && name[name.len() - 3..].eq_ignore_ascii_case(b"-by")
}

/// One trailer offered to one patch. Sorting these orders each patch's
/// trailers by the reply's date, then id, then position in the reply.
type Given = (
    (usize, usize), // series, patch position
    (i64, usize),   // the reply's time key
    usize,          // the reply
    usize,          // the trailer's position in it
);

/// Fill `collected` of every patch from the replies' trailers.
pub(crate) fn collect(
    table: &Table,
    members: &[Option<Member>],
    targets: &[Option<usize>],
    series: &mut [Series],
) {
    let mut given: Vec<Given> = Vec::new();
    for (r, target) in targets.iter().enumerate() {
        let Some(t) = *target else { continue };
        let reply = table.mails[r];
        if reply.trailers.is_empty() || reply.kind == patchgate_mail::Kind::Unusable {
            continue;
        }
        let Some(member) = members[t] else { continue };
        let positions = match member {
            Member::Patch(_, p) => p..p + 1,
            Member::Cover(s) => 0..series[s].patches.len(),
        };
        for p in positions {
            for (k, _) in reply
                .trailers
                .iter()
                .enumerate()
                .filter(|(_, t)| vouches(t))
            {
                given.push(((member.series(), p), table.time_key(r), r, k));
            }
        }
    }
    given.sort_unstable();

    let mut seen: HashSet<(usize, usize, &str, &str)> = HashSet::new();
    for ((s, p), _, r, k) in given {
        let trailer = &table.mails[r].trailers[k];
        let Some(patch) = series.get_mut(s).and_then(|x| x.patches.get_mut(p)) else {
            continue;
        };
        // Trailers the patch already carries need no collecting.
        let own = table
            .lookup(&patch.message_id)
            .map(|i| &table.mails[i].trailers)
            .is_some_and(|ts| {
                ts.iter()
                    .any(|o| o.name.eq_ignore_ascii_case(&trailer.name) && o.value == trailer.value)
            });
        if own || !seen.insert((s, p, &trailer.name, &trailer.value)) {
            continue;
        }
        patch.collected.push(Collected {
            trailer: trailer.clone(),
            from_message: table.mails[r].id.clone(),
            sender: table.mails[r].from.clone(),
        });
    }
}
