//! The one error type of this crate.

/// Why a layer could not be configured.
///
/// Requests are never answered with an error: every refusal is an HTTP response (see each
/// layer for its status codes). This type covers configuration only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TowerError {
    /// A network or prefix length given to [`ClientIp`](crate::ClientIp) is outside its
    /// address family: an IPv6 key prefix ([`ClientIp::ipv6_prefix`](crate::ClientIp::ipv6_prefix))
    /// above 128. (Trusted-proxy networks are `ipnet` values, checked when parsed.)
    #[error("invalid network `{network}`: {reason}")]
    InvalidNetwork {
        /// The text that was given.
        network: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A status code configured for a refusal is not a valid HTTP status (100–999).
    #[error("invalid status code {code}")]
    InvalidStatus {
        /// The number that was given.
        code: u16,
    },
}
