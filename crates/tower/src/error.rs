//! The one error type of this crate.

/// Why a layer could not be configured.
///
/// Requests are never answered with an error: every refusal is an HTTP response (see each
/// layer for its status codes). This type covers configuration only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TowerError {
    /// A trusted-proxy network is not an IP address or a `address/prefix` CIDR block
    /// (`10.0.0.0/8`, `2001:db8::/32`) with a prefix length within the address family
    /// (0–32 for IPv4, 0–128 for IPv6).
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
