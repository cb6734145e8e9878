//! Typed details of the events whose particulars code reads back.
//!
//! An event's detail is stored as JSON; each struct here serializes to the
//! shape written before it existed, so old events read as they always did.
//! Reading never fails: a field that is missing, or that an older or newer
//! writer gave another type, reads as `None`, and a detail that is no
//! object at all reads as all `None`.

use crate::event::{Event, EventKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The detail of one event kind.
pub trait Detail: Serialize + DeserializeOwned + Default {
    /// The kind whose detail this is.
    const KIND: EventKind;

    /// The JSON stored as the event's detail.
    fn to_value(&self) -> Value {
        // Plain fields only: serializing cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Read a stored detail; whatever it holds, never an error.
    fn read(detail: &Value) -> Self {
        Self::deserialize(detail).unwrap_or_default()
    }

    /// An event of [`Detail::KIND`] with this detail.
    fn event(&self, at: i64, actor: impl Into<String>) -> Event {
        Event {
            at,
            kind: Self::KIND,
            actor: actor.into(),
            detail: self.to_value(),
        }
    }
}

/// A field of another type than expected reads as `None`.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(T::deserialize(&v).ok())
}

macro_rules! detail {
    ($(#[$m:meta])* $name:ident = $kind:ident { $($(#[$fm:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(default, deserialize_with = "lenient")]
                pub $field: Option<$ty>,
            )*
        }

        impl Detail for $name {
            const KIND: EventKind = EventKind::$kind;
        }
    };
}

detail! {
    /// Assembly saw the series for the first time.
    Ingested = Ingested {
        key: String,
        version: u32,
        total: u32,
        received: u64,
        cover: bool,
    }
}

detail! {
    /// What a series gained or lost since assembly last saw it.
    Updated = Updated {
        /// Indices of patches it gained.
        patches_added: Vec<u32>,
        patches_removed: Vec<u32>,
        cover_added: bool,
        cover_removed: bool,
        /// How many collected trailers it gained.
        trailers_added: u64,
        trailers_removed: u64,
    }
}

detail! {
    /// A stored series assembly no longer produces, merged into its heir.
    Absorbed = Absorbed {
        /// The series that now holds its mails; `None` when no series does.
        into: i64,
    }
}

detail! {
    /// A newer revision arrived.
    Superseded = Superseded {
        by: i64,
    }
}

detail! {
    /// A closed series is open again.
    Reopened = Reopened {
        reason: String,
    }
}

detail! {
    /// A test started: where, and which process runs it, so a series left
    /// in `applying` by a process that died can be found.
    Applying = Applying {
        tree: String,
        branch: String,
        host: String,
        pid: u64,
    }
}

detail! {
    /// A test stopped before its verdict.
    Untested = Untested {
        why: String,
        /// Whether testing it again may give a verdict.
        retry: bool,
    }
}

detail! {
    /// The series applied nowhere: the first base tried and what failed.
    ApplyFailed = ApplyFailed {
        base: String,
        /// 1-based index of the patch that failed (0: before any).
        patch: u64,
        /// Files with conflicts.
        files: Vec<String>,
        /// The base has none of the files the series changes.
        not_for_tree: bool,
    }
}

detail! {
    /// The series applied and its suites run: on which base, to which head.
    Testing = Testing {
        base: String,
        head: String,
        why: String,
    }
}

detail! {
    /// The series is found on a branch already, however it got there.
    Merged = Merged {
        branch: String,
        base: String,
        /// The commits it landed as, by patch (`None`: not found by name).
        commits: Vec<Option<String>>,
        why: String,
    }
}

/// The detail of a verdict event (`tested-pass`, `tested-fail`, or
/// `verdict` for a series that did not apply): one shape for the three
/// kinds, so it is built with [`Judged::event`] and its kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judged {
    #[serde(default, deserialize_with = "lenient")]
    pub branch: Option<String>,
    /// `pass` or `fail`.
    #[serde(default, deserialize_with = "lenient")]
    pub verdict: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub head: Option<String>,
    /// The rules that kept it from passing, `name: reason` each.
    #[serde(default, deserialize_with = "lenient")]
    pub because: Option<Vec<String>>,
}

impl Judged {
    /// An event of `kind` with this detail.
    pub fn event(&self, kind: EventKind, at: i64, actor: impl Into<String>) -> Event {
        Event {
            at,
            kind,
            actor: actor.into(),
            detail: serde_json::to_value(self).unwrap_or_default(),
        }
    }

    /// Read a stored verdict detail; whatever it holds, never an error.
    pub fn read(detail: &Value) -> Self {
        Self::deserialize(detail).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_the_shape_stored_before() {
        let d = Applying {
            tree: Some("kut".into()),
            branch: Some("master".into()),
            host: Some("box".into()),
            pid: Some(42),
        };
        assert_eq!(
            d.to_value(),
            json!({"tree": "kut", "branch": "master", "host": "box", "pid": 42})
        );
        assert_eq!(Absorbed { into: None }.to_value(), json!({ "into": null }));
        assert_eq!(
            Superseded { by: Some(3) }.event(7, "assembly").kind,
            EventKind::Superseded
        );
    }

    #[test]
    fn test_stage_details_write_the_shape_stored_before() {
        let f = ApplyFailed {
            base: Some("b".into()),
            patch: Some(1),
            files: Some(vec!["a.c".into()]),
            not_for_tree: Some(false),
        };
        assert_eq!(
            f.to_value(),
            json!({"base": "b", "patch": 1, "files": ["a.c"], "not_for_tree": false})
        );
        let j = Judged {
            branch: Some("queue".into()),
            verdict: Some("pass".into()),
            head: None,
            because: Some(vec![]),
        };
        let e = j.event(EventKind::TestedPass, 5, "w");
        assert_eq!(
            e.detail,
            json!({"branch": "queue", "verdict": "pass", "head": null, "because": []})
        );
        assert_eq!(Judged::read(&e.detail), j);
        assert_eq!(
            Merged::read(&json!({"commits": [null, "abc"]})).commits,
            Some(vec![None, Some("abc".into())])
        );
    }

    #[test]
    fn old_and_odd_shapes_read_as_none() {
        assert_eq!(Applying::read(&json!({"tree": "kut"})).pid, None);
        assert_eq!(Applying::read(&json!({"pid": "12"})).pid, None);
        assert_eq!(Applying::read(&json!({"pid": 12, "new": 1})).pid, Some(12));
        assert_eq!(Applying::read(&json!("text")), Applying::default());
        assert_eq!(Applying::read(&Value::Null), Applying::default());
        assert_eq!(Absorbed::read(&json!({ "into": null })).into, None);
        let u = Updated::read(&json!({"patches_added": [1, "x"], "cover_added": true}));
        assert_eq!((u.patches_added, u.cover_added), (None, Some(true)));
    }
}
