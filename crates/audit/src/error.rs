//! The crate's error type, and the verdict of a failed chain verification.

use std::fmt;

use thiserror::Error;

/// What went wrong in `palisade-audit`. No variant carries a key, a MAC key, a reason's text
/// or any field value: only field names, fixed labels, sequence numbers and epochs.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditError {
    /// The [`ReasonPolicy`](crate::policy::ReasonPolicy) requires a reason for this action or
    /// resource type and the event has none. Nothing was written.
    #[error("a reason is required for action `{action}` on resource type `{resource_type}`")]
    ReasonRequired {
        /// The event's action.
        action: String,
        /// The event's resource type.
        resource_type: String,
    },
    /// A field that does not have the documented shape (length, characters).
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The field (`action`, `resource_type`, `resource_id`, `reason`, `client`, …).
        field: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// A value that looks like personal data in clear (an email address, a phone or card
    /// number) where only identifiers and masked values are accepted.
    #[error(
        "{field} looks like personal data in clear (an email, phone or card number): pass an id or a masked value"
    )]
    PlaintextPii {
        /// The field.
        field: &'static str,
    },
    /// An action in the reserved `audit.` namespace (written by the chain itself).
    #[error("actions starting with `audit.` are reserved for the chain's own events")]
    ReservedAction,
    /// A chain key of the wrong length, an epoch of 0, two keys of one epoch, or no key for
    /// the epoch the chain is in.
    #[error("chain key: {reason}")]
    InvalidKey {
        /// What was wrong.
        reason: &'static str,
    },
    /// No chain key of this epoch is held.
    #[error("no chain key for epoch {epoch}")]
    UnknownEpoch {
        /// The epoch.
        epoch: u32,
    },
    /// A JSON line (event or checkpoint) that does not parse into the documented form. The
    /// reason names the position or field, never the content.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// `event` or `checkpoint`.
        what: &'static str,
        /// What was wrong (a position, a field name).
        reason: String,
    },
    /// A checkpoint whose Ed25519 signature does not verify under the given public key, or
    /// signed by another key.
    #[error("checkpoint signature does not verify")]
    BadSignature,
    /// A checkpoint that does not match the stored chain (purge refused), or is for another
    /// tenant.
    #[error("checkpoint does not match the log: {reason}")]
    CheckpointMismatch {
        /// What differs.
        reason: &'static str,
    },
    /// The stored chain is not valid (see [`ChainError`]).
    #[error("invalid chain: {0}")]
    Chain(ChainError),
    /// Concurrent appenders kept moving the chain's head (a store without a local lock
    /// retried too many times). Nothing was written by this call.
    #[error("the chain head kept moving; the event was not appended")]
    Contended,
    /// A `palisade-pii` decryption failed (the failure was recorded when the sink allowed
    /// it).
    #[error("decryption failed: {0}")]
    Decryption(palisade_pii::PiiError),
    /// The sink could not be read or written (I/O, database). The text is the underlying
    /// error's, which names no field value.
    #[error("audit sink unavailable: {0}")]
    SinkUnavailable(String),
}

/// The first place where a stored chain stops being valid: the sequence number expected at
/// that position and what was found there.
///
/// Its `Display` is `seq N: <reason>`, the form the `palisade audit verify` command prints
/// after `invalid: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainError {
    /// The first bad sequence number: the one expected at the first position where the log
    /// is not a valid continuation of what precedes it.
    pub seq: u64,
    /// What is wrong there.
    pub fault: Fault,
}

/// Why a position of the chain is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Another sequence number is stored where this one was expected: an event was deleted,
    /// inserted, duplicated or moved.
    OutOfSequence {
        /// The sequence number found instead.
        found: u64,
    },
    /// The event belongs to another tenant's chain.
    TenantMismatch,
    /// The event's `prev` is not the MAC of the event before it (or of the anchoring
    /// checkpoint).
    PrevMismatch,
    /// The event's MAC does not verify: a field was modified, or it was forged without the
    /// chain key.
    MacMismatch,
    /// The event names an epoch whose chain key is not held.
    UnknownEpoch {
        /// The epoch.
        epoch: u32,
    },
    /// The event's epoch differs from the chain's current one without a key-epoch event
    /// before it.
    EpochMismatch {
        /// The chain's current epoch.
        expected: u32,
        /// The event's.
        found: u32,
    },
    /// A key-epoch event that does not name a later epoch.
    BadEpochChange,
    /// The log ends before the checkpoint's sequence number: its tail was truncated.
    Truncated {
        /// The checkpoint's sequence number.
        checkpoint_seq: u64,
    },
    /// The event at the checkpoint's sequence number has another MAC than the checkpoint's.
    CheckpointMismatch,
    /// The log starts after sequence 1 and no checkpoint anchors its first event.
    NoAnchor {
        /// The first sequence number stored.
        first: u64,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfSequence { found } => write!(
                f,
                "found seq {found} instead (event deleted, inserted, duplicated or reordered)"
            ),
            Self::TenantMismatch => f.write_str("event of another tenant"),
            Self::PrevMismatch => f.write_str("prev is not the previous event's mac"),
            Self::MacMismatch => f.write_str("mac does not verify (event modified or forged)"),
            Self::UnknownEpoch { epoch } => write!(f, "no chain key for epoch {epoch}"),
            Self::EpochMismatch { expected, found } => write!(
                f,
                "epoch {found} without a key-epoch event (chain is in epoch {expected})"
            ),
            Self::BadEpochChange => f.write_str("key-epoch event does not name a later epoch"),
            Self::Truncated { checkpoint_seq } => write!(
                f,
                "log ends before the checkpoint's seq {checkpoint_seq} (tail truncated)"
            ),
            Self::CheckpointMismatch => f.write_str("mac differs from the checkpoint's"),
            Self::NoAnchor { first } => write!(
                f,
                "log starts at seq {first} and no checkpoint anchors it (head deleted)"
            ),
        }
    }
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seq {}: {}", self.seq, self.fault)
    }
}

impl std::error::Error for ChainError {}

impl From<ChainError> for AuditError {
    fn from(e: ChainError) -> Self {
        Self::Chain(e)
    }
}

impl AuditError {
    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            what,
            reason: reason.into(),
        }
    }

    pub(crate) fn field(field: &'static str, reason: &'static str) -> Self {
        Self::InvalidField { field, reason }
    }
}
