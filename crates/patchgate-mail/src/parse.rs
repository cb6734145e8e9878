//! mail-parser glue: headers, MIME parts, patch detection.
use crate::Message;

/// Parse one mail. Total: arbitrary bytes give a `Message`.
pub fn parse(raw: &[u8]) -> Message {
    let _ = raw;
    todo!("implemented by the mail parser work")
}

/// The stable id given to a mail without Message-ID, derived from its bytes.
pub fn synthetic_id(raw: &[u8]) -> String {
    let _ = raw;
    todo!("implemented by the mail parser work")
}
