//! Render an am-ready mail from a parsed patch and the trailers collected for it.
use crate::{Message, Trailer};

/// An mbox entry (`From ` line included) that `git am` applies as the patch
/// with `extra` trailers appended to its commit message.
pub fn render_am(message: &Message, extra: &[Trailer]) -> Vec<u8> {
    let _ = (message, extra);
    todo!("implemented by the mail parser work")
}
