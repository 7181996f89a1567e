//! JWT bearer tokens (RFC 7519, JWS compact serialization RFC 7515): signature through the
//! `jsonwebtoken` crate with the key's own algorithm, then the claims checked here on a time
//! the caller gives.
//!
//! Why `jsonwebtoken`: the most used Rust JWT crate, maintained, with JWK parsing and a
//! pure-Rust backend. Since version 10 it needs a crypto backend feature: this crate enables
//! `rust_crypto` (RustCrypto's `hmac`, `sha2`, `rsa`, `p256`, `p384`, `ed25519-dalek`, the
//! families the workspace already uses) rather than `aws_lc_rs` (a C and assembly build). Do
//! not enable both in one build: `jsonwebtoken` then wants a provider installed by hand.
//!
//! What this module adds around it, and why:
//! - its claim checks read the system clock; time is an input here (`now`, Unix seconds), so
//!   `exp`, `nbf` and `iat` are checked by this module with the configured leeway, and
//!   `jsonwebtoken` only verifies the signature;
//! - the header is read first: `alg: none` in any letter case is refused by name, any `crit`
//!   is refused (this verifier understands no extension), the `kid` selects the key, and the
//!   header's `alg` must equal the key's one algorithm (algorithm confusion refused before
//!   any cryptography).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use crate::error::AuthError;
use crate::key::{KeySet, VerifyingKey};

/// The longest token accepted, in bytes (16 KiB).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The verified claims of a token: its JSON payload object.
#[derive(Clone, PartialEq)]
pub struct Claims(Map<String, Value>);

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claim values may be personal data: names only.
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Claims {
    /// The claim named `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// All claims.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The claims as one line of JSON (keys in `serde_json`'s map order: sorted, or as in the
    /// token when its `preserve_order` feature is on in the build).
    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

/// What a token's header says, read before any key is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    alg: String,
    kid: Option<String>,
}

impl TokenHeader {
    /// Reads the header of a compact JWS: three base64url segments, a JSON object with a
    /// string `alg` that is not `none` (any case) and no `crit`.
    ///
    /// # Errors
    ///
    /// [`AuthError::MalformedToken`], [`AuthError::AlgorithmNone`],
    /// [`AuthError::UnknownCritical`].
    pub fn parse(token: &str) -> Result<Self, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::MalformedToken("longer than 16 KiB"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::MalformedToken(
                "not three dot-separated segments",
            ));
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| AuthError::MalformedToken("header is not base64url"))?;
        let map: Map<String, Value> = serde_json::from_slice(&bytes)
            .map_err(|_| AuthError::MalformedToken("header is not a JSON object"))?;
        let alg = match map.get("alg") {
            Some(Value::String(alg)) => alg.clone(),
            _ => return Err(AuthError::MalformedToken("header has no string alg")),
        };
        if alg.eq_ignore_ascii_case("none") {
            return Err(AuthError::AlgorithmNone);
        }
        if map.contains_key("crit") {
            return Err(AuthError::UnknownCritical);
        }
        let kid = match map.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(AuthError::MalformedToken("kid is not a string")),
        };
        Ok(Self { alg, kid })
    }

    /// The header's `alg`, as written.
    pub fn alg(&self) -> &str {
        &self.alg
    }

    /// The header's `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
}

/// How claims are checked: `exp` required (by default), `nbf` and `iat` honoured, each with
/// `leeway` seconds of clock skew; issuer and audience when configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtValidation {
    issuers: Vec<String>,
    audiences: Vec<String>,
    leeway: u64,
    require_exp: bool,
}

impl Default for JwtValidation {
    fn default() -> Self {
        Self::new()
    }
}

impl JwtValidation {
    /// `exp` required, leeway 0 s, any issuer, no audience (a token with an `aud` is then
    /// refused, RFC 7519 §4.1.3).
    pub fn new() -> Self {
        Self {
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway: 0,
            require_exp: true,
        }
    }

    /// Accepts tokens whose `iss` is `issuer` (call again to accept several).
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Identifies this service as `audience`: a token must name it in `aud` (a string or an
    /// array of strings). Call again for several names.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Clock-skew allowance for `exp`, `nbf` and `iat`, in seconds.
    #[must_use]
    pub fn leeway_secs(mut self, leeway: u64) -> Self {
        self.leeway = leeway;
        self
    }

    /// Accepts tokens without `exp` (they never expire: avoid).
    #[must_use]
    pub fn allow_missing_exp(mut self) -> Self {
        self.require_exp = false;
        self
    }

    /// Verifies `token` with `keys` at `now` (Unix seconds): header checks, key selection by
    /// `kid`, the header's `alg` against the key's, the signature (`jsonwebtoken`), then the
    /// claims.
    ///
    /// # Errors
    ///
    /// Every JWT variant of [`AuthError`]: [`MalformedToken`](AuthError::MalformedToken),
    /// [`AlgorithmNone`](AuthError::AlgorithmNone),
    /// [`UnknownCritical`](AuthError::UnknownCritical), [`UnknownKid`](AuthError::UnknownKid),
    /// [`MissingKid`](AuthError::MissingKid),
    /// [`AlgorithmNotAllowed`](AuthError::AlgorithmNotAllowed),
    /// [`InvalidSignature`](AuthError::InvalidSignature), [`Expired`](AuthError::Expired),
    /// [`NotYetValid`](AuthError::NotYetValid),
    /// [`IssuedInFuture`](AuthError::IssuedInFuture),
    /// [`MissingClaim`](AuthError::MissingClaim), [`InvalidClaim`](AuthError::InvalidClaim),
    /// [`WrongIssuer`](AuthError::WrongIssuer), [`WrongAudience`](AuthError::WrongAudience).
    pub fn verify(&self, keys: &KeySet, token: &str, now: u64) -> Result<Claims, AuthError> {
        let header = TokenHeader::parse(token)?;
        let key = keys.select(header.kid())?;
        self.verify_with_key(key, &header, token, now)
    }

    /// [`verify`](Self::verify) with the key already chosen for `header`.
    pub(crate) fn verify_with_key(
        &self,
        key: &VerifyingKey,
        header: &TokenHeader,
        token: &str,
        now: u64,
    ) -> Result<Claims, AuthError> {
        let alg = key.algorithm();
        if header.alg() != algorithm_name(alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let claims = jsonwebtoken::decode::<Map<String, Value>>(
            token,
            key.decoding_key(),
            &signature_only(alg),
        )
        .map_err(|e| map_jwt_error(e.kind()))?
        .claims;
        self.check_claims(&claims, now)?;
        Ok(Claims(claims))
    }

    fn check_claims(&self, claims: &Map<String, Value>, now: u64) -> Result<(), AuthError> {
        let leeway = self.leeway;
        match numeric_date(claims, "exp")? {
            Some(exp) if now >= exp.saturating_add(leeway) => return Err(AuthError::Expired),
            None if self.require_exp => return Err(AuthError::MissingClaim("exp")),
            _ => {}
        }
        if numeric_date(claims, "nbf")?.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
            return Err(AuthError::NotYetValid);
        }
        if numeric_date(claims, "iat")?.is_some_and(|iat| iat > now.saturating_add(leeway)) {
            return Err(AuthError::IssuedInFuture);
        }
        if !self.issuers.is_empty() {
            match claims.get("iss") {
                None => return Err(AuthError::MissingClaim("iss")),
                Some(Value::String(iss)) if self.issuers.iter().any(|i| i == iss) => {}
                Some(Value::String(_)) => return Err(AuthError::WrongIssuer),
                Some(_) => return Err(AuthError::InvalidClaim("iss")),
            }
        }
        self.check_audience(claims.get("aud"))
    }

    fn check_audience(&self, aud: Option<&Value>) -> Result<(), AuthError> {
        let named = |a: &str| self.audiences.iter().any(|x| x == a);
        match aud {
            None if self.audiences.is_empty() => Ok(()),
            None => Err(AuthError::MissingClaim("aud")),
            Some(Value::String(a)) if named(a) => Ok(()),
            Some(Value::String(_)) => Err(AuthError::WrongAudience),
            Some(Value::Array(list)) => {
                let mut hit = false;
                for v in list {
                    let Value::String(a) = v else {
                        return Err(AuthError::InvalidClaim("aud"));
                    };
                    hit |= named(a);
                }
                if hit {
                    Ok(())
                } else {
                    Err(AuthError::WrongAudience)
                }
            }
            Some(_) => Err(AuthError::InvalidClaim("aud")),
        }
    }
}

/// `jsonwebtoken`'s validation reduced to the signature with `alg` (its clock-based checks
/// off: this module checks the claims on the caller's time).
fn signature_only(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.leeway = 0;
    v
}

/// The JOSE name of `alg` (RFC 7518 §3.1, RFC 8037 §3.1).
pub(crate) fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        // `Algorithm` is non-exhaustive: a future variant names no key of this crate.
        _ => "",
    }
}

/// A NumericDate claim (RFC 7519 §2): a non-negative JSON number of seconds, fractions
/// dropped.
fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(v) = n.as_u64() {
                return Ok(Some(v));
            }
            match n.as_f64() {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Some(f) if (0.0..1.8e19).contains(&f) => Ok(Some(f.floor() as u64)),
                _ => Err(AuthError::InvalidClaim(name)),
            }
        }
        Some(_) => Err(AuthError::InvalidClaim(name)),
    }
}

fn map_jwt_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm => AuthError::AlgorithmNotAllowed,
        ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => AuthError::InvalidKey("the verifying key is unusable"),
        ErrorKind::Base64(_) => AuthError::MalformedToken("a segment is not base64url"),
        ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
            AuthError::MalformedToken("the payload is not a JSON object")
        }
        ErrorKind::InvalidToken => AuthError::MalformedToken("not a compact JWS"),
        // `InvalidSignature`, and whatever else the library reports: refused as a bad
        // signature (fail closed).
        _ => AuthError::InvalidSignature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JOSE names of RFC 7518 §3.1 and RFC 8037 §3.1, each as `jsonwebtoken` spells it
    /// too: the name a token's `alg` header must carry for a key of that algorithm.
    #[test]
    fn algorithms_carry_their_jose_names() {
        for (alg, name) in [
            (Algorithm::HS256, "HS256"),
            (Algorithm::HS384, "HS384"),
            (Algorithm::HS512, "HS512"),
            (Algorithm::ES256, "ES256"),
            (Algorithm::ES384, "ES384"),
            (Algorithm::RS256, "RS256"),
            (Algorithm::RS384, "RS384"),
            (Algorithm::RS512, "RS512"),
            (Algorithm::PS256, "PS256"),
            (Algorithm::PS384, "PS384"),
            (Algorithm::PS512, "PS512"),
            (Algorithm::EdDSA, "EdDSA"),
        ] {
            assert_eq!(algorithm_name(alg), name);
            assert_eq!(name.parse::<Algorithm>().ok(), Some(alg));
        }
    }
}
