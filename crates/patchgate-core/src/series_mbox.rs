//! The am-ready mbox of a stored series: its patches in order, each with the
//! trailers collected from replies appended to its commit message, as
//! `b4 am` would give it.

use patchgate_mail::Trailer;
use patchgate_store::{SeriesDetail, Store};

/// Why a series cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum MboxError {
    #[error(
        "series {series} is incomplete: patch {missing} of {total} not received; \
         it would not apply as posted"
    )]
    Incomplete {
        series: i64,
        missing: String,
        total: u32,
    },
    #[error("series {series}: patch {index} ({message_id}) has no stored bytes")]
    Missing {
        series: i64,
        index: u32,
        message_id: String,
    },
    #[error(transparent)]
    Store(#[from] patchgate_store::Error),
}

/// The mbox of `detail`'s patches with collected trailers applied; an
/// incomplete series is refused, since it would not apply as posted.
pub fn series_mbox(store: &dyn Store, detail: &SeriesDetail) -> Result<Vec<u8>, MboxError> {
    let s = &detail.series;
    if !s.missing.is_empty() {
        let missing: Vec<String> = s.missing.iter().map(u32::to_string).collect();
        return Err(MboxError::Incomplete {
            series: s.id,
            missing: missing.join(", "),
            total: s.total,
        });
    }
    received_mbox(store, detail)
}

/// The mbox of the patches of `detail` that were received, in order, with
/// collected trailers applied, whether or not the series is complete (as
/// `b4 am` gives what it has); the caller tells the user what is missing.
pub fn received_mbox(store: &dyn Store, detail: &SeriesDetail) -> Result<Vec<u8>, MboxError> {
    let s = &detail.series;
    let mut out = Vec::new();
    for p in &detail.patches {
        let raw = store
            .raw_message(&p.message_id)?
            .ok_or_else(|| MboxError::Missing {
                series: s.id,
                index: p.index,
                message_id: p.message_id.clone(),
            })?;
        let message = patchgate_mail::parse(&raw);
        let extra: Vec<Trailer> = p.collected.iter().map(|c| c.trailer.clone()).collect();
        out.extend_from_slice(&patchgate_mail::render_am(&message, &extra));
    }
    Ok(out)
}
