//! The one error type of this crate.

/// Why a request was refused as a replay, or why a replay check could not be made.
///
/// Messages never contain keys, ids or secrets: they are safe to log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The id was seen before, within its time to live: a replay (or a duplicate delivery).
    #[error("replayed: this id was already seen")]
    Replayed,
    /// Another claim of the same delivery holds an unexpired lease: it is being handled now.
    /// Answer with a retryable status (HTTP 409), so the provider retries after the lease.
    #[error("in progress: a delivery with this id is being handled")]
    InProgress,
    /// The signed timestamp lies outside the guard's [`Tolerance`](palisade_webhook::Tolerance)
    /// (the same fields as `WebhookError::TimestampOutsideTolerance`).
    ///
    /// `skew_secs` is `now - timestamp` in seconds: positive when too old, negative when
    /// from the future.
    ///
    /// `Display` says only the direction ("too old" or "in the future"): the message may
    /// reach the client, and the skew and tolerance would reveal the server's clock and the
    /// bound to aim for. Log the fields (or the `Debug` form) for the operator.
    #[error(
        "timestamp outside the replay tolerance: {}",
        if *skew_secs >= 0 { "too old" } else { "in the future" }
    )]
    TimestampOutsideTolerance {
        /// `now - timestamp`, in seconds.
        skew_secs: i64,
        /// The bound that was exceeded in that direction, in seconds.
        tolerance_secs: u64,
    },
    /// A sequence number at or below the bottom of a [`SequenceWindow`](crate::SequenceWindow).
    #[error("sequence number {seq} is older than the window (lowest accepted {lowest})")]
    SequenceTooOld {
        /// The refused sequence number.
        seq: u64,
        /// The lowest number the window still accepts.
        lowest: u64,
    },
    /// A sequence number already accepted by a [`SequenceWindow`](crate::SequenceWindow).
    #[error("sequence number {seq} was already seen")]
    SequenceReplayed {
        /// The refused sequence number.
        seq: u64,
    },
    /// The store is at its entry cap and its policy is to refuse (fail closed) rather than
    /// forget live ids.
    #[error("nonce store is full ({cap} live entries)")]
    StoreFull {
        /// The configured cap, in entries.
        cap: usize,
    },
    /// The store could not be reached or answered with an error (connection refused, I/O).
    #[error("nonce store unavailable: {reason}")]
    StoreUnavailable {
        /// What went wrong, without keys or credentials.
        reason: String,
    },
    /// The store did not answer within its timeout.
    #[error("nonce store timed out after {millis} ms")]
    StoreTimeout {
        /// The timeout that elapsed, in milliseconds.
        millis: u64,
    },
    /// A parameter is unusable: a zero TTL, an empty namespace, a window size that is not a
    /// positive multiple of 64.
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: &'static str,
    },
}

impl ReplayError {
    /// Whether this error means "the store could not decide" (unavailable, timeout, full),
    /// as opposed to a decision (replayed, outside the tolerance) or a configuration mistake.
    pub fn is_store_failure(&self) -> bool {
        matches!(
            self,
            Self::StoreUnavailable { .. } | Self::StoreTimeout { .. } | Self::StoreFull { .. }
        )
    }
}

impl From<palisade_webhook::OutsideTolerance> for ReplayError {
    fn from(e: palisade_webhook::OutsideTolerance) -> Self {
        Self::TimestampOutsideTolerance {
            skew_secs: e.skew_secs,
            tolerance_secs: e.tolerance_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ReplayError;

    /// The message may reach the client: it must not reveal the server's clock or tolerance.
    #[test]
    fn tolerance_display_reveals_no_numbers() {
        for (skew_secs, tolerance_secs) in [(301, 300), (-86_461, 86_400), (i64::MIN, 7)] {
            let e = ReplayError::TimestampOutsideTolerance {
                skew_secs,
                tolerance_secs,
            };
            let shown = e.to_string();
            assert!(!shown.bytes().any(|b| b.is_ascii_digit()), "{shown}");
            let direction = if skew_secs >= 0 {
                "too old"
            } else {
                "in the future"
            };
            assert!(shown.ends_with(direction), "{shown}");
            // The detail stays in the fields, for the operator's logs.
            assert!(format!("{e:?}").contains(&tolerance_secs.to_string()));
        }
    }
}
