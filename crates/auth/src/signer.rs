//! Signing JWTs for a service that is its own issuer (its session tokens): the counterpart of
//! [`VerifyingKey`](crate::key::VerifyingKey), for HMAC keys, through `jsonwebtoken`'s
//! `encode`.

use std::fmt;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

use crate::error::AuthError;
use crate::key::VerifyingKey;

/// A key that signs JWTs (JWS compact serialization, RFC 7515 §7.1) with one HMAC algorithm
/// (RFC 7518 §3.2), optionally naming itself with a key id (`kid`).
///
/// The secret is held by `jsonwebtoken`'s `EncodingKey`; `Debug` shows the algorithm and the
/// key id only. [`verifying_key`](Self::verifying_key) gives the matching
/// [`VerifyingKey`], so signer and verifier are built from the one secret.
///
/// ```
/// use palisade_auth::{JwtSigner, JwtValidation, KeySet};
/// use serde_json::json;
///
/// let secret = [7u8; 32]; // from a secret manager in production
/// let signer = JwtSigner::hs256(&secret)?.with_kid("2026-12");
/// let claims = json!({"sub": "u-1", "tenant": "acme", "exp": 1_800_000_600u64});
/// let token = signer.sign(claims.as_object().ok_or("object")?)?;
/// let keys = KeySet::single(signer.verifying_key()?);
/// let verified = JwtValidation::new().verify(&keys, &token, 1_800_000_000)?;
/// assert_eq!(verified.get("sub").and_then(|v| v.as_str()), Some("u-1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct JwtSigner {
    alg: Algorithm,
    key: EncodingKey,
    secret_check: VerifyingKey,
    kid: Option<String>,
}

impl fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSigner")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl JwtSigner {
    /// An HS256 signer: the shared secret's raw bytes (at least [`MIN_HMAC_SECRET_LEN`](crate::MIN_HMAC_SECRET_LEN)).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidKey`] for a shorter secret.
    pub fn hs256(secret: &[u8]) -> Result<Self, AuthError> {
        Self::hmac(Algorithm::HS256, secret)
    }

    /// An HMAC signer for `alg` (HS256, HS384 or HS512).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidKey`] for another algorithm or a secret shorter than
    /// [`MIN_HMAC_SECRET_LEN`](crate::MIN_HMAC_SECRET_LEN).
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, AuthError> {
        // The verifying key checks the algorithm family and the length, once for both.
        let secret_check = VerifyingKey::hmac(alg, secret)?;
        let key = EncodingKey::from_secret(secret)
            .map_err(|_| AuthError::InvalidKey("the HMAC secret was refused"))?;
        Ok(Self {
            alg,
            key,
            secret_check,
            kid: None,
        })
    }

    /// Names the key: tokens carry `kid` in their header, and the verifying key has it too.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        let kid = kid.into();
        self.secret_check = self.secret_check.with_kid(kid.clone());
        self.kid = Some(kid);
        self
    }

    /// The algorithm of the tokens it signs.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The [`VerifyingKey`] of the same secret, algorithm and key id.
    ///
    /// # Errors
    ///
    /// None today (the secret was checked when the signer was built); kept fallible so the
    /// signature holds for asymmetric signers later.
    pub fn verifying_key(&self) -> Result<VerifyingKey, AuthError> {
        Ok(self.secret_check.clone())
    }

    /// Signs `claims` (the JSON payload object) into a compact JWS: header `{"alg", "typ":
    /// "JWT", "kid"?}`. The claims are signed as given: set `exp` (Unix seconds) yourself.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidKey`] when `jsonwebtoken` cannot sign (it does not happen for HMAC
    /// keys and JSON objects).
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, AuthError> {
        let mut header = Header::new(self.alg);
        header.kid.clone_from(&self.kid);
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|_| AuthError::InvalidKey("the token could not be signed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::JwtValidation;
    use crate::key::KeySet;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn signed_tokens_verify_with_the_same_secret_only() {
        let signer = JwtSigner::hs256(&[1u8; 32]).map(|s| s.with_kid("k1"));
        let Ok(signer) = signer else {
            unreachable!("a 32-byte secret is accepted")
        };
        let token = signer.sign(&claims(json!({"sub": "u", "exp": 200u64})));
        let Ok(token) = token else {
            unreachable!("HMAC signing does not fail")
        };
        let mine = signer.verifying_key().map(KeySet::single);
        let Ok(mine) = mine else { unreachable!() };
        let v = JwtValidation::new().leeway_secs(0);
        assert!(v.verify(&mine, &token, 100).is_ok());
        assert_eq!(v.verify(&mine, &token, 200), Err(AuthError::Expired));
        let other = VerifyingKey::hs256(&[2u8; 32]).map(|k| KeySet::single(k.with_kid("k1")));
        let Ok(other) = other else { unreachable!() };
        assert_eq!(
            v.verify(&other, &token, 100),
            Err(AuthError::InvalidSignature)
        );
    }

    #[test]
    fn short_secrets_and_non_hmac_algorithms_are_refused() {
        assert!(matches!(
            JwtSigner::hs256(&[1u8; 31]),
            Err(AuthError::InvalidKey(_))
        ));
        assert!(matches!(
            JwtSigner::hmac(Algorithm::RS256, &[1u8; 32]),
            Err(AuthError::InvalidKey(_))
        ));
    }

    #[test]
    fn debug_shows_no_secret() {
        let signer = JwtSigner::hs256(b"0123456789abcdef0123456789abcdef");
        let Ok(signer) = signer else { unreachable!() };
        let shown = format!("{signer:?}");
        assert!(!shown.contains("0123456789abcdef"));
        assert!(shown.contains("HS256"));
    }
}
