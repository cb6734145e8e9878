//! Commit ids as a type: always the full lowercase hex id, never an
//! abbreviation or a ref name, so that two equal commits compare equal.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A full git object id: 40 hex digits (SHA-1) or 64 (SHA-256), lowercase.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Oid(String);

/// A string that is not a full object id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a full git object id (40 or 64 hex digits)")]
pub struct BadOid(pub String);

impl Oid {
    /// Parses a full hex id; upper-case digits are accepted and lowered.
    pub fn parse(text: &str) -> Result<Oid, BadOid> {
        let text = text.trim();
        let well_formed =
            matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit());
        if well_formed {
            Ok(Oid(text.to_ascii_lowercase()))
        } else {
            Err(BadOid(text.to_owned()))
        }
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The all-zero id git uses for "no object".
    pub fn is_null(&self) -> bool {
        self.0.bytes().all(|b| b == b'0')
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Oid {
    type Err = BadOid;
    fn from_str(text: &str) -> Result<Oid, BadOid> {
        Oid::parse(text)
    }
}

impl TryFrom<String> for Oid {
    type Error = BadOid;
    fn try_from(text: String) -> Result<Oid, BadOid> {
        Oid::parse(&text)
    }
}

impl From<Oid> for String {
    fn from(oid: Oid) -> String {
        oid.0
    }
}

impl AsRef<str> for Oid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_full_ids_only() {
        let id = "0123456789ABCDEF0123456789abcdef01234567";
        assert_eq!(
            Oid::parse(id).map(|o| o.to_string()),
            Ok(id.to_ascii_lowercase())
        );
        assert!(Oid::parse("0123456").is_err());
        assert!(Oid::parse("master").is_err());
        assert!(Oid::parse(&"g".repeat(40)).is_err());
    }
}
