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
