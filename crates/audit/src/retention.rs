//! Retention: export a range of a tenant's chain with its checkpoint, then purge it.

use std::io::Write;

use palisade_rbac::TenantId;

use crate::chain::Head;
use crate::checkpoint::{Checkpoint, CheckpointSigner};
use crate::error::AuditError;
use crate::event::now_ms;
use crate::sink::AuditSink;

const BATCH: usize = 1000;

/// Writes `tenant`'s stored events up to and including `through_seq` to `out` as JSON lines
/// (from the first one still stored, i.e. after the sink's anchor), and returns the signed
/// checkpoint of the last one written. Store both (the archive: the seeds keep 7 years),
/// then [`AuditSink::purge`] with the checkpoint; the chain that remains is verified from
/// it.
///
/// The export holds the events as stored: verify the archive with the chain keys and the
/// previous anchor ([`verify_with_checkpoints`](crate::checkpoint::verify_with_checkpoints)).
///
/// # Errors
///
/// [`AuditError::CheckpointMismatch`] when `through_seq` is not stored (already purged, or
/// past the head); the sink's errors; [`AuditError::SinkUnavailable`] when `out` fails.
pub async fn export<S: AuditSink + ?Sized>(
    sink: &S,
    tenant: &TenantId,
    through_seq: u64,
    signer: &CheckpointSigner,
    out: &mut impl Write,
) -> Result<Checkpoint, AuditError> {
    let mut after = sink.anchor(tenant).await?.map_or(0, |a| a.seq);
    if through_seq <= after {
        return Err(AuditError::CheckpointMismatch {
            reason: "the range was already purged",
        });
    }
    let mut last = None;
    while after < through_seq {
        let want = usize::try_from(through_seq - after)
            .unwrap_or(BATCH)
            .min(BATCH);
        let batch = sink.read(tenant, after, want).await?;
        let Some(tail) = batch.last() else { break };
        after = tail.seq;
        for e in &batch {
            writeln!(out, "{}", e.to_json_line())
                .map_err(|e| AuditError::SinkUnavailable(format!("export: {}", e.kind())))?;
        }
        last = Some(Head::after(tail));
    }
    out.flush()
        .map_err(|e| AuditError::SinkUnavailable(format!("export: {}", e.kind())))?;
    match last {
        Some(head) if head.seq == through_seq => Ok(signer.sign(tenant, &head, now_ms())),
        _ => Err(AuditError::CheckpointMismatch {
            reason: "no stored event at the requested seq",
        }),
    }
}
