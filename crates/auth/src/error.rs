//! The crate's one error type.

use thiserror::Error;

/// What went wrong in `palisade-auth`. No variant carries a key, a token, a secret, a pepper
/// or a claim value: their `Display` is safe in logs and in the CLI's `invalid: <reason>`.
/// [`AuthError::reason`] gives a fixed label for metrics and events.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    // --- API keys ---
    /// A string that is not `<prefix>_<id>_<secret><checksum>` as
    /// [`ApiKey`](crate::apikey::ApiKey) describes (wrong length, alphabet or separators).
    #[error("malformed API key: {0}")]
    MalformedApiKey(&'static str),
    /// The key's CRC-32 checksum does not match: a mistyped or truncated key, never sent to
    /// the store.
    #[error("API key checksum mismatch")]
    ChecksumMismatch,
    /// No key with this id, or the secret does not match it (the two are not told apart).
    #[error("unknown API key")]
    UnknownApiKey,
    /// The key was revoked.
    #[error("API key revoked")]
    RevokedApiKey,
    /// The key is past its expiry.
    #[error("API key expired")]
    ExpiredApiKey,
    /// A key prefix outside 1–16 bytes of `[a-z0-9]` starting with a letter.
    #[error("invalid API key prefix: {0}")]
    InvalidPrefix(&'static str),
    /// An id already in the store (the insert was refused).
    #[error("duplicate API key id")]
    DuplicateKeyId,

    // --- JWT ---
    /// Not three base64url segments holding a JSON header and a JSON object of claims, or
    /// longer than [`MAX_TOKEN_LEN`](crate::jwt::MAX_TOKEN_LEN).
    #[error("malformed token: {0}")]
    MalformedToken(&'static str),
    /// `alg: none` (in any letter case): unsecured JWTs are never accepted.
    #[error("unsecured token (alg none) refused")]
    AlgorithmNone,
    /// The header's `alg` is not the algorithm of the verifying key (algorithm confusion:
    /// an HMAC token against a public key, or the reverse).
    #[error("token algorithm not allowed for this key")]
    AlgorithmNotAllowed,
    /// The header lists a `crit` extension this verifier does not understand (RFC 7515
    /// §4.1.11).
    #[error("unknown critical header parameter")]
    UnknownCritical,
    /// The header's `kid` names no key of the key set.
    #[error("unknown key id")]
    UnknownKid,
    /// The header has no `kid` and the key set holds more than one key.
    #[error("missing key id")]
    MissingKid,
    /// The signature does not verify.
    #[error("invalid signature")]
    InvalidSignature,
    /// `exp` is past (leeway included).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (leeway included).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future (leeway included).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// A required claim is absent (`exp` by default).
    #[error("missing claim: {0}")]
    MissingClaim(&'static str),
    /// A registered claim of the wrong JSON type (`exp` not a number, `aud` not a string or
    /// an array of strings, …).
    #[error("invalid claim: {0}")]
    InvalidClaim(&'static str),
    /// `iss` is not a configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` names no configured audience, or the token has an `aud` and no audience is
    /// configured (RFC 7519 §4.1.3).
    #[error("wrong audience")]
    WrongAudience,
    /// A verifying key, JWK or JWKS that cannot be used (too short an HMAC secret, a
    /// malformed PEM, an empty key set, …).
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// The JWKS source failed (file unreadable, …); the message names no secret.
    #[error("JWKS source failed: {0}")]
    JwksSource(String),
    /// The verified claims do not map to a [`Principal`](palisade_rbac::Principal): a
    /// missing or invalid tenant, subject, role or scope claim (its configured name).
    #[error("claims do not map to a principal: {0}")]
    ClaimMapping(&'static str),

    // --- Requests ---
    /// The request carries no credential.
    #[error("missing credential")]
    MissingCredential,
    /// An `Authorization` header (or the configured header) that is not `Bearer <token>`
    /// with a token of RFC 6750's `b64token` syntax.
    #[error("malformed authorization header")]
    MalformedHeader,
    /// A bearer credential that is neither an API key of a configured prefix nor a JWT.
    #[error("unsupported credential")]
    UnsupportedCredential,
    /// A retired shared token: refused whatever else the request carries.
    #[error("retired token")]
    LegacyTokenBlocked,

    // --- Configuration and stores ---
    /// A configuration this crate refuses (an empty list, a zero interval, …).
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
    /// The key store could not be reached or answered something unexpected.
    #[error("API key store unavailable: {0}")]
    StoreUnavailable(String),
}

impl AuthError {
    /// A fixed, secret-free snake_case label of this error, for metrics labels and the
    /// `reason` field of events (`malformed_api_key`, `expired`, `legacy_token`, …).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::MalformedApiKey(_) => "malformed_api_key",
            Self::ChecksumMismatch => "checksum_mismatch",
            Self::UnknownApiKey => "unknown_api_key",
            Self::RevokedApiKey => "revoked_api_key",
            Self::ExpiredApiKey => "expired_api_key",
            Self::InvalidPrefix(_) => "invalid_prefix",
            Self::DuplicateKeyId => "duplicate_key_id",
            Self::MalformedToken(_) => "malformed_token",
            Self::AlgorithmNone => "alg_none",
            Self::AlgorithmNotAllowed => "alg_not_allowed",
            Self::UnknownCritical => "unknown_crit",
            Self::UnknownKid => "unknown_kid",
            Self::MissingKid => "missing_kid",
            Self::InvalidSignature => "invalid_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::MissingClaim(_) => "missing_claim",
            Self::InvalidClaim(_) => "invalid_claim",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::InvalidKey(_) => "invalid_key",
            Self::JwksSource(_) => "jwks_unavailable",
            Self::ClaimMapping(_) => "claim_mapping",
            Self::MissingCredential => "missing_credential",
            Self::MalformedHeader => "malformed_header",
            Self::UnsupportedCredential => "unsupported_credential",
            Self::LegacyTokenBlocked => "legacy_token",
            Self::InvalidConfig(_) => "invalid_config",
            Self::Random => "random",
            Self::StoreUnavailable(_) => "store_unavailable",
        }
    }

    /// Whether this error is the server's fault (store, JWKS source, random generator,
    /// configuration) rather than the credential's: a layer answers 503/500, not 401.
    pub fn is_server_error(&self) -> bool {
        matches!(
            self,
            Self::JwksSource(_)
                | Self::InvalidConfig(_)
                | Self::Random
                | Self::StoreUnavailable(_)
                | Self::InvalidPrefix(_)
                | Self::DuplicateKeyId
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server's faults (a layer answers 500/503) against the credential's (401).
    #[test]
    fn server_errors_are_the_servers_faults_only() {
        for server in [
            AuthError::JwksSource("down".into()),
            AuthError::InvalidConfig("bad"),
            AuthError::Random,
            AuthError::StoreUnavailable("down".into()),
            AuthError::InvalidPrefix("bad"),
            AuthError::DuplicateKeyId,
        ] {
            assert!(server.is_server_error(), "{server:?}");
        }
        for client in [
            AuthError::MissingCredential,
            AuthError::MalformedHeader,
            AuthError::UnsupportedCredential,
            AuthError::LegacyTokenBlocked,
            AuthError::ChecksumMismatch,
            AuthError::MalformedApiKey("short"),
            AuthError::AlgorithmNone,
            AuthError::ClaimMapping("tenant"),
        ] {
            assert!(!client.is_server_error(), "{client:?}");
        }
    }
}
