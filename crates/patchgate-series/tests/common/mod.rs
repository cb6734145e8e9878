//! Hand-built [`Mail`] values for the rule tests: a small builder so each
//! test reads like the thread it describes.
#![allow(dead_code)]

use patchgate_mail::{Kind, Person, Subject, Trailer};
use patchgate_series::{Mail, Series};

/// Minutes since an arbitrary epoch, as Unix seconds.
pub fn at(minute: i64) -> i64 {
    1_660_000_000 + minute * 60
}

#[derive(Debug, Clone)]
pub struct B(pub Mail);

fn base(id: &str, kind: Kind, title: &str) -> B {
    B(Mail {
        id: id.to_owned(),
        in_reply_to: None,
        references: Vec::new(),
        from: Person {
            name: "Ada Author".into(),
            email: "ada@example.org".into(),
        },
        date: Some(at(0)),
        prefix: Subject {
            patch: kind != Kind::Reply,
            version: 1,
            title: title.to_owned(),
            ..Subject::default()
        },
        kind,
        trailers: Vec::new(),
        base_commit: None,
        change_id: None,
        author: None,
    })
}

/// `[PATCH 0/total] title`
pub fn cover(id: &str, total: u32, title: &str) -> B {
    let mut b = base(id, Kind::Cover, title);
    b.0.prefix.index = Some(0);
    b.0.prefix.total = Some(total);
    b
}

/// `[PATCH index/total] title`
pub fn patch(id: &str, index: u32, total: u32, title: &str) -> B {
    let mut b = base(id, Kind::Patch, title);
    b.0.prefix.index = Some(index);
    b.0.prefix.total = Some(total);
    b
}

/// `[PATCH] title`
pub fn single(id: &str, title: &str) -> B {
    base(id, Kind::Patch, title)
}

/// `Re: …` answering `parent`, with References `refs` (oldest first).
pub fn reply(id: &str, parent: &str, refs: &[&str]) -> B {
    let mut b = base(id, Kind::Reply, "review");
    b.0.prefix.reply = true;
    b.0.from = Person {
        name: "Rita Reviewer".into(),
        email: "rita@example.org".into(),
    };
    b.irt(parent).refs(refs)
}

impl B {
    pub fn irt(mut self, parent: &str) -> Self {
        self.0.in_reply_to = Some(parent.to_owned());
        self
    }
    pub fn refs(mut self, refs: &[&str]) -> Self {
        self.0.references = refs.iter().map(|r| (*r).to_owned()).collect();
        self
    }
    /// Threaded directly under `parent`, References = `[parent]`.
    pub fn under(self, parent: &str) -> Self {
        self.irt(parent).refs(&[parent])
    }
    pub fn v(mut self, version: u32) -> Self {
        self.0.prefix.version = version;
        self
    }
    pub fn minute(mut self, m: i64) -> Self {
        self.0.date = Some(at(m));
        self
    }
    pub fn undated(mut self) -> Self {
        self.0.date = None;
        self
    }
    pub fn by(mut self, name: &str, email: &str) -> Self {
        self.0.from = Person {
            name: name.into(),
            email: email.into(),
        };
        self
    }
    pub fn trailer(mut self, name: &str, value: &str) -> Self {
        self.0.trailers.push(Trailer {
            name: name.into(),
            value: value.into(),
        });
        self
    }
    pub fn tag(mut self, tag: &str) -> Self {
        self.0.prefix.tags.push(tag.into());
        self
    }
    pub fn rfc(mut self) -> Self {
        self.0.prefix.rfc = true;
        self
    }
    pub fn resend(mut self) -> Self {
        self.0.prefix.resend = true;
        self
    }
    pub fn change_id(mut self, c: &str) -> Self {
        self.0.change_id = Some(c.into());
        self
    }
    pub fn base_commit(mut self, c: &str) -> Self {
        self.0.base_commit = Some(c.into());
        self
    }
    pub fn kind(mut self, k: Kind) -> Self {
        self.0.kind = k;
        self
    }
}

pub fn mails(bs: &[B]) -> Vec<Mail> {
    bs.iter().map(|b| b.0.clone()).collect()
}

/// A series as its cover id and its (index, patch id) pairs.
pub type Shape = (Option<String>, Vec<(u32, String)>);

/// Each series' shape, for compact asserts and failure messages.
pub fn shape(series: &[Series]) -> Vec<Shape> {
    series
        .iter()
        .map(|s| {
            (
                s.cover.clone(),
                s.patches
                    .iter()
                    .map(|p| (p.index, p.message_id.clone()))
                    .collect(),
            )
        })
        .collect()
}

pub fn find<'a>(series: &'a [Series], key: &str) -> &'a Series {
    series
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no series {key}: {:#?}", shape(series)))
}
