//! Who is calling: checksummed API keys stored as peppered HMACs, JWT bearer tokens verified
//! with the key's own algorithm (JWKS with `kid` selection), a kill switch for retired shared
//! tokens, and the [`Principal`](palisade_rbac::Principal) they all produce.
//!
// The crate docs, in lib.md: their examples use the `palisade` facade's paths and are
// compiled and run as doctests of the facade (crates/palisade), with it as the only
// Palisade dependency.
#![cfg_attr(not(doctest), doc = include_str!("lib.md"))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod apikey;
mod authenticator;
mod checksum;
mod claims;
mod error;
mod header;
mod jwks;
mod jwt;
mod key;
mod keys;
mod legacy;
mod memory;
mod record;
mod signer;
mod store;
mod verifier;

#[cfg(feature = "testing")]
pub mod testing;

pub use apikey::{ApiKey, ApiKeyPrefix, ID_LEN, KeyId, MAX_KEY_LEN, MAX_PREFIX_LEN, SECRET_LEN};
pub use authenticator::{ApiKeyVerifier, Authenticator, Method};
pub use checksum::CHECKSUM_LEN;
pub use claims::ClaimMapping;
pub use error::AuthError;
pub use header::{MAX_HEADER_LEN, parse_bearer, parse_credential};
pub use jwks::{
    DEFAULT_REFRESH_INTERVAL, DEFAULT_UNKNOWN_KID_COOLDOWN, FileJwks, Jwks, JwksSource,
};
pub use jwt::{Claims, JwtValidation, MAX_TOKEN_LEN, TokenHeader};
pub use key::{KeySet, MAX_JWKS_LEN, MIN_HMAC_SECRET_LEN, VerifyingKey};
pub use keys::{ApiKeys, IssuedKey, KeySpec};
pub use legacy::{LegacyTokens, LegacyVerdict};
pub use memory::MemoryApiKeyStore;
pub use record::{ApiKeyRecord, KeyCheck, LAST_USED_INTERVAL, NewApiKey};
pub use signer::JwtSigner;
pub use store::ApiKeyStore;
pub use verifier::{JwtVerifier, KeySource};

/// The JWS algorithms of `jsonwebtoken` (a key's one algorithm).
pub use jsonwebtoken::Algorithm;
/// palisade-otp's keyed hash: peppers with ids, and the stored hash.
pub use palisade_otp::{CodeHash, Pepper, Peppers};
/// The palisade-rbac types of this crate's API: the principal authentication produces, and
/// what a key is issued for.
pub use palisade_rbac::{Principal, ScopeSet, SubjectId, TenantId};
/// The `secrecy` types of this crate's API.
pub use secrecy::{ExposeSecret, SecretBox, SecretString};
