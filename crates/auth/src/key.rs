//! Verifying keys and key sets: each key carries the one algorithm it verifies, so a token's
//! header never chooses it.

use std::fmt;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::error::AuthError;

/// The shortest HMAC secret accepted, in bytes: RFC 7518 §3.2 requires a key at least as
/// long as the hash output (256 bits for HS256).
pub const MIN_HMAC_SECRET_LEN: usize = 32;

/// The largest JWKS document read, in bytes (1 MiB).
pub const MAX_JWKS_LEN: usize = 1 << 20;

/// A key that verifies JWT signatures with exactly one [`Algorithm`], optionally named by a
/// key id (`kid`). An HMAC key only ever verifies its HMAC algorithm and a public key only
/// its own signature algorithm, so the two can never be confused.
#[derive(Clone)]
pub struct VerifyingKey {
    alg: Algorithm,
    key: DecodingKey,
    kid: Option<String>,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn family_error(what: &'static str) -> AuthError {
    AuthError::InvalidKey(what)
}

impl VerifyingKey {
    /// An HS256 key: the shared secret's raw bytes (at least 32).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidKey`] for a secret shorter than [`MIN_HMAC_SECRET_LEN`].
    pub fn hs256(secret: &[u8]) -> Result<Self, AuthError> {
        Self::hmac(Algorithm::HS256, secret)
    }

    /// An HMAC key for `alg` (HS256, HS384 or HS512).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidKey`] for another algorithm or a secret shorter than
    /// [`MIN_HMAC_SECRET_LEN`].
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, AuthError> {
        if !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            return Err(family_error("not an HMAC algorithm"));
        }
        if secret.len() < MIN_HMAC_SECRET_LEN {
            return Err(family_error(
                "HMAC secret shorter than 32 bytes (RFC 7518 §3.2)",
            ));
        }
        let key = DecodingKey::from_secret(secret).map_err(|_| family_error("empty secret"))?;
        Ok(Self::with(alg, key))
    }

    /// An RSA public key in PEM (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`) for `alg`
    /// (RS256/384/512, PS256/384/512).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidKey`] for another algorithm or a PEM that is not an RSA key.
    pub fn rsa_pem(alg: Algorithm, pem: &[u8]) -> Result<Self, AuthError> {
        if !is_rsa(alg) {
            return Err(family_error("not an RSA algorithm"));
        }
        let key = DecodingKey::from_rsa_pem(pem).map_err(|_| family_error("not an RSA PEM"))?;
        Ok(Self::with(alg, key))
    }

    /// An EC public key in PEM (`BEGIN PUBLIC KEY`) for `alg` (ES256 on P-256, ES384 on
    /// P-384).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidKey`] for another algorithm or a PEM that is not an EC key.
    pub fn ec_pem(alg: Algorithm, pem: &[u8]) -> Result<Self, AuthError> {
        if !matches!(alg, Algorithm::ES256 | Algorithm::ES384) {
            return Err(family_error("not an ECDSA algorithm"));
        }
        let key = DecodingKey::from_ec_pem(pem).map_err(|_| family_error("not an EC PEM"))?;
        Ok(Self::with(alg, key))
    }

    /// An Ed25519 public key in PEM (`BEGIN PUBLIC KEY`), for EdDSA.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidKey`] for a PEM that is not an Ed25519 key.
    pub fn ed25519_pem(pem: &[u8]) -> Result<Self, AuthError> {
        let key = DecodingKey::from_ed_pem(pem).map_err(|_| family_error("not an Ed25519 PEM"))?;
        Ok(Self::with(Algorithm::EdDSA, key))
    }

    /// A public JWK (RFC 7517): `RSA`, `EC` (P-256, P-384) or `OKP` (Ed25519). The algorithm
    /// is the JWK's `alg` when present (it must fit the key type) and otherwise the key
    /// type's usual one: RS256, ES256 / ES384 by curve, EdDSA. Symmetric (`oct`) keys are
    /// refused: a key set is public material, and an HMAC secret comes from
    /// [`hmac`](Self::hmac). A `use` other than `sig` is refused.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidKey`] saying what does not fit.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, AuthError> {
        if let Some(u) = &jwk.common.public_key_use
            && *u != PublicKeyUse::Signature
        {
            return Err(family_error("JWK not for signatures"));
        }
        let declared = jwk.common.key_algorithm.map(key_algorithm);
        let alg = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => match declared {
                None => Algorithm::RS256,
                Some(Some(a)) if is_rsa(a) => a,
                Some(_) => return Err(family_error("JWK alg does not fit an RSA key")),
            },
            AlgorithmParameters::EllipticCurve(p) => {
                let usual = match p.curve {
                    EllipticCurve::P256 => Algorithm::ES256,
                    EllipticCurve::P384 => Algorithm::ES384,
                    _ => return Err(family_error("unsupported EC curve")),
                };
                match declared {
                    None => usual,
                    Some(Some(a)) if a == usual => a,
                    Some(_) => return Err(family_error("JWK alg does not fit its curve")),
                }
            }
            AlgorithmParameters::OctetKeyPair(p) => {
                if p.curve != EllipticCurve::Ed25519 {
                    return Err(family_error("unsupported OKP curve"));
                }
                match declared {
                    None | Some(Some(Algorithm::EdDSA)) => Algorithm::EdDSA,
                    Some(_) => return Err(family_error("JWK alg does not fit an Ed25519 key")),
                }
            }
            AlgorithmParameters::OctetKey(_) => {
                return Err(family_error("symmetric (oct) JWK refused in a key set"));
            }
            _ => return Err(family_error("unsupported JWK type")),
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|_| family_error("unusable JWK"))?;
        let mut out = Self::with(alg, key);
        out.kid = jwk.common.key_id.clone();
        Ok(out)
    }

    fn with(alg: Algorithm, key: DecodingKey) -> Self {
        Self {
            alg,
            key,
            kid: None,
        }
    }

    /// Names the key (the `kid` tokens signed with it carry).
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id, if named.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }
}

fn is_rsa(alg: Algorithm) -> bool {
    matches!(
        alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
    )
}

/// A JWK's `alg` as an asymmetric signature algorithm (`None`: HMAC, which a key set
/// refuses whatever the key, an encryption or an unknown algorithm: each fits no key here).
fn key_algorithm(a: KeyAlgorithm) -> Option<Algorithm> {
    Some(match a {
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// The keys a verifier accepts. A token naming a `kid` is verified with that key only (or
/// with the set's one key when that key has no id); a token without one only when the set
/// holds exactly one key.
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
}

impl KeySet {
    /// A set of `keys`.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidKey`] when it is empty or two keys share a `kid` (or two have
    /// none).
    pub fn new(keys: Vec<VerifyingKey>) -> Result<Self, AuthError> {
        if keys.is_empty() {
            return Err(AuthError::InvalidKey("empty key set"));
        }
        for (i, k) in keys.iter().enumerate() {
            if keys.iter().skip(i + 1).any(|o| o.kid == k.kid) {
                return Err(AuthError::InvalidKey("two keys with the same kid"));
            }
        }
        Ok(Self { keys })
    }

    /// A set of one key.
    pub fn single(key: VerifyingKey) -> Self {
        Self { keys: vec![key] }
    }

    /// The usable signature keys of a JWKS document (RFC 7517 §5: `{"keys": [...]}`). Keys
    /// this verifier cannot use (unknown `kty`, symmetric, `use: enc`, unsupported curve) are
    /// skipped, as RFC 7517 §5 advises; at least one must remain.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidKey`] when the document is larger than [`MAX_JWKS_LEN`], is not a
    /// JWKS, or holds no usable key (or two with one `kid`).
    pub fn from_jwks_json(json: &str) -> Result<Self, AuthError> {
        if json.len() > MAX_JWKS_LEN {
            return Err(AuthError::InvalidKey("JWKS larger than 1 MiB"));
        }
        #[derive(serde::Deserialize)]
        struct Doc {
            keys: Vec<serde_json::Value>,
        }
        let doc: Doc =
            serde_json::from_str(json).map_err(|_| AuthError::InvalidKey("not a JWKS document"))?;
        let keys = doc
            .keys
            .into_iter()
            .filter_map(|v| serde_json::from_value::<Jwk>(v).ok())
            .filter_map(|jwk| VerifyingKey::from_jwk(&jwk).ok())
            .collect();
        Self::new(keys).map_err(|e| match e {
            AuthError::InvalidKey("empty key set") => {
                AuthError::InvalidKey("no usable signature key in the JWKS")
            }
            other => other,
        })
    }

    /// The key for a token's `kid`.
    ///
    /// # Errors
    ///
    /// [`AuthError::UnknownKid`] when no key has that id; [`AuthError::MissingKid`] when the
    /// token has none and the set holds several keys.
    pub fn select(&self, kid: Option<&str>) -> Result<&VerifyingKey, AuthError> {
        match kid {
            Some(kid) => match (
                self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
                self.keys.as_slice(),
            ) {
                (Some(key), _) => Ok(key),
                // One unnamed key (an HS256 secret, one PEM): the token's kid names nothing
                // to choose between.
                (None, [only]) if only.kid.is_none() => Ok(only),
                (None, _) => Err(AuthError::UnknownKid),
            },
            None => match self.keys.as_slice() {
                [only] => Ok(only),
                _ => Err(AuthError::MissingKid),
            },
        }
    }

    /// Whether a key has id `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The keys.
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }
}
