//! What a user may type to name a series ([`Store::find_series`]), parsed
//! apart from any backend: a backend only looks the parsed reference up.
//!
//! [`Store::find_series`]: crate::Store::find_series

/// A parsed series reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `12`: a series id (followed to where it was merged). A number is also
    /// a valid Message-ID, so when no series has the id, `text` is looked
    /// up as one.
    Id { id: i64, text: String },
    /// A Message-ID, with or without `<>`, or taken from a link to a
    /// message (`https://lore.kernel.org/r/<id>`,
    /// `https://lore.kernel.org/<list>/<id>/`, `…/T/#u`): the mail itself,
    /// or a reply in the thread of one of the series' mails.
    MessageId(String),
    /// `topic:N`: the newest revision of topic N.
    TopicId(i64),
    /// `topic:<key>`: the newest revision of the topic with this key (a
    /// Message-ID, in any of the forms above).
    TopicKey(String),
}

impl Reference {
    /// Parse what a user typed; every input is some reference (one that
    /// names nothing is simply not found).
    pub fn parse(reference: &str) -> Reference {
        let reference = reference.trim();
        if let Some(topic) = reference.strip_prefix("topic:") {
            let topic = topic.trim();
            return match topic.parse::<i64>() {
                Ok(id) => Reference::TopicId(id),
                Err(_) => Reference::TopicKey(message_id_of(topic)),
            };
        }
        if let Ok(id) = reference.parse::<i64>() {
            return Reference::Id {
                id,
                text: reference.to_string(),
            };
        }
        Reference::MessageId(message_id_of(reference))
    }
}

/// A Message-ID as users paste it: `<id>`, `id`, or a link to the message.
fn message_id_of(reference: &str) -> String {
    let r = reference.trim();
    let r = link_id(r).unwrap_or_else(|| r.to_string());
    match r.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
        Some(inner) => inner.to_string(),
        None => r,
    }
}

/// The Message-ID in a public-inbox link: the path segment after `/r/`
/// (lore's short form), else the first segment holding an `@`; percent
/// escapes decoded. `None` when `r` is no link or names no message.
fn link_id(r: &str) -> Option<String> {
    let rest = r
        .strip_prefix("https://")
        .or_else(|| r.strip_prefix("http://"))?;
    // Host, then path; the fragment and query are no part of the id.
    let path = rest.split(['#', '?']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').skip(1).filter(|s| !s.is_empty()).collect();
    let short = segments
        .windows(2)
        .find(|w| w[0] == "r")
        .map(|w| w[1])
        .filter(|_| segments.first() == Some(&"r"));
    let seg = short.or_else(|| segments.iter().copied().find(|s| s.contains('@')))?;
    Some(percent_decode(seg))
}

/// `%XX` escapes decoded; a malformed escape, or one that would not give
/// UTF-8, is kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::Reference::{self, *};

    fn p(s: &str) -> Reference {
        Reference::parse(s)
    }

    fn mid(s: &str) -> Reference {
        MessageId(s.to_string())
    }

    #[test]
    fn ids_and_topics() {
        assert_eq!(
            p(" 12 "),
            Id {
                id: 12,
                text: "12".into()
            }
        );
        assert_eq!(p("topic:7"), TopicId(7));
        assert_eq!(p("topic: 7 "), TopicId(7));
        assert_eq!(p("topic:v1c@x"), TopicKey("v1c@x".into()));
        assert_eq!(p("topic:<v1c@x>"), TopicKey("v1c@x".into()));
        assert_eq!(
            p("topic:https://lore.kernel.org/r/a@b"),
            TopicKey("a@b".into())
        );
    }

    #[test]
    fn message_ids_bare_and_bracketed() {
        assert_eq!(p("a@b"), mid("a@b"));
        assert_eq!(p(" <a@b> "), mid("a@b"));
        assert_eq!(p("<a@b"), mid("<a@b"), "half a bracket is kept");
        assert_eq!(p(""), mid(""));
    }

    #[test]
    fn lore_links() {
        let id = "20240101120000.1234-1-ada@example.org";
        for link in [
            format!("https://lore.kernel.org/r/{id}"),
            format!("https://lore.kernel.org/r/{id}/"),
            format!("https://lore.kernel.org/kvm/{id}/"),
            format!("https://lore.kernel.org/kvm/{id}/T/#u"),
            format!("https://lore.kernel.org/all/{id}/t.mbox.gz"),
            format!("http://lore.kernel.org/kvm/{id}/?q=x"),
            format!("https://lore.kernel.org/r/%3C{id}%3E"),
        ] {
            assert_eq!(p(&link), mid(id), "{link}");
        }
        // lore's short form needs no `@` in the id.
        assert_eq!(p("https://lore.kernel.org/r/no-at-sign"), mid("no-at-sign"));
        assert_eq!(
            p("https://lore.kernel.org/kvm/a%2Fb@x/"),
            mid("a/b@x"),
            "escapes decoded"
        );
        assert_eq!(p("https://lore.kernel.org/kvm/a%zzb@x/"), mid("a%zzb@x"));
        assert_eq!(p("https://lore.kernel.org/kvm/a%e2@x/"), mid("a%e2@x"));
        assert_eq!(p("https://example.org/"), mid("https://example.org/"));
        assert_eq!(p("https://example.org/%"), mid("https://example.org/%"));
    }
}
