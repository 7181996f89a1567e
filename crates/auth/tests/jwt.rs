//! JWT verification: RFC 7515/7519 examples, tokens made by another implementation (PyJWT,
//! `fixtures/generate.py`), and every classic attack as a named test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header, encode};
use palisade_auth::{
    Algorithm, AuthError, ClaimMapping, JwksSource, JwtValidation, JwtVerifier, KeySet, KeySource,
    VerifyingKey,
};
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn token(name: &str) -> String {
    fixture(name).trim().to_owned()
}

/// RFC 7515 Appendix A.1 (also RFC 7519 §3.1): the HS256 example JWS and its key.
const RFC7515_A1: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC7515_A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
/// The examples' `exp`.
const RFC_EXP: u64 = 1_300_819_380;

/// The PyJWT fixtures' claims: iat = nbf, exp = iat + 3600.
const IAT: u64 = 1_767_225_600;
const EXP: u64 = IAT + 3600;
const NOW: u64 = IAT + 60;

fn rfc_hs_key() -> KeySet {
    let k = URL_SAFE_NO_PAD.decode(RFC7515_A1_KEY).unwrap();
    KeySet::single(VerifyingKey::hs256(&k).unwrap())
}

fn hs_secret() -> String {
    fixture("hs256.secret").trim().to_owned()
}

fn hs_keys() -> KeySet {
    KeySet::single(VerifyingKey::hs256(hs_secret().as_bytes()).unwrap())
}

fn jwks() -> KeySet {
    KeySet::from_jwks_json(&fixture("jwks.json")).unwrap()
}

fn rsa_pem_keys() -> KeySet {
    KeySet::single(
        VerifyingKey::rsa_pem(Algorithm::RS256, fixture("rsa.pub.pem").as_bytes())
            .unwrap()
            .with_kid("rsa-1"),
    )
}

/// The fixtures' issuer and audience.
fn strict() -> JwtValidation {
    JwtValidation::new()
        .issuer("https://issuer.example")
        .audience("palisade-tests")
}

/// An HS256 token over `claims` with the fixtures' secret, made with `jsonwebtoken`.
fn hs256(claims: &Value) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(hs_secret().as_bytes()).unwrap(),
    )
    .unwrap()
}

fn base_claims() -> Value {
    json!({
        "iss": "https://issuer.example", "aud": "palisade-tests", "sub": "user-42",
        "tenant": "acme", "iat": IAT, "nbf": IAT, "exp": EXP
    })
}

/// A token with `header` and `payload` (JSON) and the given signature segment.
fn raw(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

// --- Published examples ---

#[test]
fn rfc7515_a1_hs256_example_verifies_with_the_right_key() {
    let claims = JwtValidation::new()
        .verify(&rfc_hs_key(), RFC7515_A1, RFC_EXP - 1)
        .unwrap();
    assert_eq!(claims.get("iss"), Some(&json!("joe")));
    assert_eq!(claims.get("http://example.com/is_root"), Some(&json!(true)));
}

#[test]
fn rfc7515_a1_hs256_example_fails_with_another_key() {
    let other = KeySet::single(VerifyingKey::hs256(&[7u8; 64]).unwrap());
    assert_eq!(
        JwtValidation::new().verify(&other, RFC7515_A1, RFC_EXP - 1),
        Err(AuthError::InvalidSignature)
    );
}

#[test]
fn rfc7519_3_1_example_expires_at_its_exp() {
    // RFC 7519 §3.1 uses the same JWS; "the current date/time MUST be before" exp.
    assert_eq!(
        JwtValidation::new().verify(&rfc_hs_key(), RFC7515_A1, RFC_EXP),
        Err(AuthError::Expired)
    );
    // With 60 s of leeway it is still accepted at exp + 59.
    assert!(
        JwtValidation::new()
            .leeway_secs(60)
            .verify(&rfc_hs_key(), RFC7515_A1, RFC_EXP + 59)
            .is_ok()
    );
}

#[test]
fn rfc7515_a2_rs256_example_verifies_with_its_public_key() {
    let key =
        VerifyingKey::rsa_pem(Algorithm::RS256, fixture("rfc7515-a2.pub.pem").as_bytes()).unwrap();
    let claims = JwtValidation::new()
        .verify(&KeySet::single(key), &token("rfc7515-a2.jwt"), RFC_EXP - 1)
        .unwrap();
    assert_eq!(claims.get("iss"), Some(&json!("joe")));
}

// --- Tokens of another implementation (PyJWT) ---

#[test]
fn pyjwt_hs256_token_verifies() {
    let claims = strict()
        .verify(&hs_keys(), &token("hs256.jwt"), NOW)
        .unwrap();
    assert_eq!(claims.get("sub"), Some(&json!("user-42")));
}

#[test]
fn pyjwt_rs256_es256_eddsa_tokens_verify_with_the_jwks() {
    for name in ["rs256.jwt", "es256.jwt", "eddsa.jwt"] {
        let claims = strict().verify(&jwks(), &token(name), NOW).unwrap();
        assert_eq!(claims.get("tenant"), Some(&json!("acme")), "{name}");
    }
}

#[test]
fn pyjwt_tokens_verify_with_pem_keys() {
    let es = VerifyingKey::ec_pem(Algorithm::ES256, fixture("ec.pub.pem").as_bytes())
        .unwrap()
        .with_kid("ec-1");
    let ed = VerifyingKey::ed25519_pem(fixture("ed25519.pub.pem").as_bytes())
        .unwrap()
        .with_kid("ed-1");
    let rsa = rsa_pem_keys().keys()[0].clone();
    let set = KeySet::new(vec![rsa, es, ed]).unwrap();
    for name in ["rs256.jwt", "es256.jwt", "eddsa.jwt"] {
        strict().verify(&set, &token(name), NOW).unwrap();
    }
}

#[tokio::test]
async fn claims_map_to_the_principal() {
    let v = JwtVerifier::with_keys(jwks(), strict());
    let p = v.verify(&token("rs256.jwt"), NOW).await.unwrap();
    assert_eq!(p.tenant().as_str(), "acme");
    assert_eq!(p.subject().as_str(), "user-42");
    assert!(p.has_role("agent"));
    assert!(p.scopes().allows(&"bookings:write".parse().unwrap()));
    assert!(!p.scopes().allows(&"calls:delete".parse().unwrap()));

    // Configured claim names.
    let claims = json!({"sub": "u1", "org": "t9", "https://x.example/roles": "admin agent",
                        "scp": ["calls:*"], "exp": EXP});
    let v = JwtVerifier::with_keys(hs_keys(), JwtValidation::new()).mapping(
        ClaimMapping::new()
            .tenant_claim("org")
            .roles_claim("https://x.example/roles"),
    );
    let p = v.verify(&hs256(&claims), NOW).await.unwrap();
    assert_eq!(p.tenant().as_str(), "t9");
    assert!(p.has_role("admin") && p.has_role("agent"));
    assert!(p.scopes().allows(&"calls:read".parse().unwrap()));

    // No tenant claim: refused, naming the part.
    let v = JwtVerifier::with_keys(hs_keys(), JwtValidation::new());
    assert_eq!(
        v.verify(&hs256(&json!({"sub": "u1", "exp": EXP})), NOW)
            .await,
        Err(AuthError::ClaimMapping("tenant"))
    );
}

// --- Attacks ---

#[test]
fn attack_alg_none_in_any_case_is_refused() {
    let original = token("hs256.jwt");
    let signature = original.rsplit('.').next().unwrap();
    for alg in ["none", "None", "NONE", "nOnE"] {
        for sig in ["", signature] {
            let t = raw(&json!({"alg": alg, "typ": "JWT"}), &base_claims(), sig);
            assert_eq!(
                strict().verify(&hs_keys(), &t, NOW),
                Err(AuthError::AlgorithmNone),
                "{alg}"
            );
            assert_eq!(
                strict().verify(&jwks(), &t, NOW),
                Err(AuthError::AlgorithmNone)
            );
        }
    }
}

#[test]
fn attack_hs256_signed_with_the_rsa_public_key_pem_is_refused() {
    // The classic confusion: the attacker signs HS256 with the server's public key as the
    // HMAC secret, hoping the server feeds its RSA key to HMAC.
    let pem = fixture("rsa.pub.pem");
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let forged = encode(
        &header,
        &base_claims(),
        &EncodingKey::from_secret(pem.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        strict().verify(&rsa_pem_keys(), &forged, NOW),
        Err(AuthError::AlgorithmNotAllowed)
    );
    assert_eq!(
        strict().verify(&jwks(), &forged, NOW),
        Err(AuthError::AlgorithmNotAllowed)
    );
    // The other way: an RS256 token against an HMAC key.
    assert_eq!(
        strict().verify(&hs_keys(), &token("rs256.jwt"), NOW),
        Err(AuthError::AlgorithmNotAllowed)
    );
    let one_hmac = KeySet::single(
        VerifyingKey::hs256(hs_secret().as_bytes())
            .unwrap()
            .with_kid("rsa-1"),
    );
    assert_eq!(
        strict().verify(&one_hmac, &token("rs256.jwt"), NOW),
        Err(AuthError::AlgorithmNotAllowed)
    );
}

#[test]
fn attack_public_key_never_serves_as_an_hmac_secret() {
    // A JWKS cannot smuggle a symmetric key, and a public key cannot be built as HMAC.
    let doc = json!({"keys": [{"kty": "oct", "k": RFC7515_A1_KEY, "kid": "x"}]});
    assert!(KeySet::from_jwks_json(&doc.to_string()).is_err());
    assert!(VerifyingKey::rsa_pem(Algorithm::HS256, fixture("rsa.pub.pem").as_bytes()).is_err());
}

#[test]
fn attack_expired_token_is_refused() {
    assert_eq!(
        strict().verify(&hs_keys(), &token("hs256.jwt"), EXP),
        Err(AuthError::Expired)
    );
    assert!(
        strict()
            .leeway_secs(30)
            .verify(&hs_keys(), &token("hs256.jwt"), EXP + 29)
            .is_ok()
    );
    assert_eq!(
        strict()
            .leeway_secs(30)
            .verify(&hs_keys(), &token("hs256.jwt"), EXP + 30),
        Err(AuthError::Expired)
    );
}

#[test]
fn attack_not_yet_valid_token_is_refused() {
    assert_eq!(
        strict().verify(&jwks(), &token("es256.jwt"), IAT - 1),
        Err(AuthError::NotYetValid)
    );
    assert!(
        strict()
            .leeway_secs(5)
            .verify(&jwks(), &token("es256.jwt"), IAT - 5)
            .is_ok()
    );
}

#[test]
fn attack_token_issued_in_the_future_is_refused() {
    let mut c = base_claims();
    c["iat"] = json!(NOW + 120);
    c.as_object_mut().unwrap().remove("nbf");
    assert_eq!(
        strict().verify(&hs_keys(), &hs256(&c), NOW),
        Err(AuthError::IssuedInFuture)
    );
}

#[test]
fn attack_wrong_issuer_is_refused() {
    let v = JwtValidation::new()
        .issuer("https://other.example")
        .audience("palisade-tests");
    assert_eq!(
        v.verify(&jwks(), &token("rs256.jwt"), NOW),
        Err(AuthError::WrongIssuer)
    );
}

#[test]
fn attack_wrong_audience_is_refused() {
    let v = JwtValidation::new()
        .issuer("https://issuer.example")
        .audience("another-service");
    assert_eq!(
        v.verify(&jwks(), &token("eddsa.jwt"), NOW),
        Err(AuthError::WrongAudience)
    );
    // An audience in the token and none configured: refused (RFC 7519 §4.1.3).
    assert_eq!(
        JwtValidation::new().verify(&hs_keys(), &token("hs256.jwt"), NOW),
        Err(AuthError::WrongAudience)
    );
    // An array naming us is accepted; a non-string member is invalid.
    let mut c = base_claims();
    c["aud"] = json!(["x", "palisade-tests"]);
    assert!(strict().verify(&hs_keys(), &hs256(&c), NOW).is_ok());
    c["aud"] = json!(["palisade-tests", 7]);
    assert_eq!(
        strict().verify(&hs_keys(), &hs256(&c), NOW),
        Err(AuthError::InvalidClaim("aud"))
    );
    // An audience configured and none in the token: refused, naming the claim.
    c.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        strict().verify(&hs_keys(), &hs256(&c), NOW),
        Err(AuthError::MissingClaim("aud"))
    );
}

#[test]
fn attack_missing_exp_is_refused_by_default() {
    let mut c = base_claims();
    c.as_object_mut().unwrap().remove("exp");
    let t = hs256(&c);
    assert_eq!(
        strict().verify(&hs_keys(), &t, NOW),
        Err(AuthError::MissingClaim("exp"))
    );
    assert!(
        strict()
            .allow_missing_exp()
            .verify(&hs_keys(), &t, NOW)
            .is_ok()
    );
    c["exp"] = json!("tomorrow");
    assert_eq!(
        strict().verify(&hs_keys(), &hs256(&c), NOW),
        Err(AuthError::InvalidClaim("exp"))
    );
}

#[test]
fn attack_unknown_kid_is_refused() {
    let t = token("rs256.jwt").replacen(
        &URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"rsa-1","typ":"JWT"}"#),
        &URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"rsa-9","typ":"JWT"}"#),
        1,
    );
    assert_ne!(t, token("rs256.jwt"), "the header was rewritten");
    assert_eq!(
        strict().verify(&jwks(), &t, NOW),
        Err(AuthError::UnknownKid)
    );
    // No kid with several keys: no guessing.
    let no_kid = raw(&json!({"alg": "RS256"}), &base_claims(), "AA");
    assert_eq!(
        strict().verify(&jwks(), &no_kid, NOW),
        Err(AuthError::MissingKid)
    );
}

#[test]
fn attack_tampered_payload_with_the_original_signature_is_refused() {
    for name in ["hs256.jwt", "rs256.jwt", "es256.jwt", "eddsa.jwt"] {
        let t = token(name);
        let mut parts: Vec<&str> = t.split('.').collect();
        let mut c = base_claims();
        c["roles"] = json!(["admin"]);
        c["tenant"] = json!("victim");
        let payload = URL_SAFE_NO_PAD.encode(c.to_string());
        parts[1] = &payload;
        let tampered = parts.join(".");
        let keys = if name == "hs256.jwt" {
            hs_keys()
        } else {
            jwks()
        };
        assert_eq!(
            strict().verify(&keys, &tampered, NOW),
            Err(AuthError::InvalidSignature),
            "{name}"
        );
    }
}

#[test]
fn attack_unknown_crit_header_is_refused() {
    for header in [
        json!({"alg": "HS256", "crit": ["exp"], "exp": 1}),
        json!({"alg": "HS256", "crit": ["b64"], "b64": true}),
        json!({"alg": "HS256", "crit": []}),
    ] {
        let t = encode_with_header(&header, &base_claims());
        assert_eq!(
            strict().verify(&hs_keys(), &t, NOW),
            Err(AuthError::UnknownCritical)
        );
    }
}

/// A correctly HS256-signed token with an arbitrary header.
fn encode_with_header(header: &Value, claims: &Value) -> String {
    use hmac_sign::sign;
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = sign(hs_secret().as_bytes(), signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

mod hmac_sign {
    /// HMAC-SHA256 through `jsonwebtoken`'s own signer (a token's signature segment).
    pub(super) fn sign(key: &[u8], input: &[u8]) -> Vec<u8> {
        let sig = jsonwebtoken::crypto::sign(
            input,
            &jsonwebtoken::EncodingKey::from_secret(key).unwrap(),
            jsonwebtoken::Algorithm::HS256,
        )
        .unwrap();
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap()
    }
}

#[test]
fn malformed_tokens_are_refused_without_panicking() {
    for t in [
        "",
        "a",
        "a.b",
        "a.b.c.d.e",
        "!!.b.c",
        "eyJhbGciOiJIUzI1NiJ9.!!.c",
        "eyJhbGciOiJIUzI1NiJ9.e30.!!",
        "W10.e30.AA",
    ] {
        let r = strict().verify(&hs_keys(), t, NOW);
        assert!(
            matches!(
                r,
                Err(AuthError::MalformedToken(_) | AuthError::InvalidSignature)
            ),
            "{t}: {r:?}"
        );
    }
    let huge = "a".repeat(palisade_auth::MAX_TOKEN_LEN + 1);
    assert!(matches!(
        strict().verify(&hs_keys(), &huge, NOW),
        Err(AuthError::MalformedToken(_))
    ));
}

#[test]
fn hmac_secrets_shorter_than_32_bytes_are_refused() {
    assert!(matches!(
        VerifyingKey::hs256(b"secret"),
        Err(AuthError::InvalidKey(_))
    ));
}

// --- JWKS refresh ---

struct Rotating {
    docs: Vec<String>,
    fetches: AtomicUsize,
}

#[async_trait]
impl JwksSource for Rotating {
    async fn fetch(&self) -> Result<String, AuthError> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst);
        Ok(self.docs[n.min(self.docs.len() - 1)].clone())
    }
}

#[tokio::test]
async fn jwks_refreshes_on_interval_and_for_unknown_kids_with_a_cooldown() {
    let all: Value = serde_json::from_str(&fixture("jwks.json")).unwrap();
    let only_rsa = json!({"keys": [all["keys"][0].clone()]});
    let source = Arc::new(Rotating {
        docs: vec![only_rsa.to_string(), all.to_string()],
        fetches: AtomicUsize::new(0),
    });
    struct Shared(Arc<Rotating>);
    #[async_trait]
    impl JwksSource for Shared {
        async fn fetch(&self) -> Result<String, AuthError> {
            self.0.fetch().await
        }
    }
    let jwks = palisade_auth::Jwks::new(Shared(source.clone()))
        .refresh_interval(std::time::Duration::from_secs(300))
        .unwrap();
    let v = JwtVerifier::new(KeySource::Jwks(Arc::new(jwks)), strict());
    v.verify_claims(&token("rs256.jwt"), NOW).await.unwrap();
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    // Cached: no fetch.
    v.verify_claims(&token("rs256.jwt"), NOW + 1).await.unwrap();
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    // An unknown kid within the cooldown: no fetch, refused.
    assert_eq!(
        v.verify_claims(&token("es256.jwt"), NOW + 2).await,
        Err(AuthError::UnknownKid)
    );
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    // After the cooldown: one fetch brings the issuer's new key.
    v.verify_claims(&token("es256.jwt"), NOW + 31)
        .await
        .unwrap();
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    // After the interval: refreshed again.
    v.verify_claims(&token("es256.jwt"), NOW + 31 + 300)
        .await
        .unwrap();
    assert_eq!(source.fetches.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn file_jwks_reads_the_file() {
    let path = format!("{}/tests/fixtures/jwks.json", env!("CARGO_MANIFEST_DIR"));
    let jwks = palisade_auth::Jwks::new(palisade_auth::FileJwks::new(path));
    let v = JwtVerifier::new(KeySource::Jwks(Arc::new(jwks)), strict());
    v.verify_claims(&token("eddsa.jwt"), NOW).await.unwrap();
    let missing = palisade_auth::Jwks::new(palisade_auth::FileJwks::new("/nonexistent/jwks"));
    let v = JwtVerifier::new(KeySource::Jwks(Arc::new(missing)), strict());
    assert!(matches!(
        v.verify_claims(&token("eddsa.jwt"), NOW).await,
        Err(AuthError::JwksSource(_))
    ));
}

#[tokio::test]
async fn a_fixed_tenant_and_a_configured_subject_claim() {
    let claims = json!({"uid": "u-77", "sub": "ignored", "tenant": "other", "exp": EXP,
                        "scope": "calls:delete", "permissions": ["calls:read"]});
    let v = JwtVerifier::with_keys(hs_keys(), JwtValidation::new()).mapping(
        ClaimMapping::new()
            .fixed_tenant(palisade_rbac::TenantId::new("solo").unwrap())
            .subject_claim("uid")
            .scope_claims(["permissions"]),
    );
    let p = v.verify(&hs256(&claims), NOW).await.unwrap();
    assert_eq!(p.tenant().as_str(), "solo");
    assert_eq!(p.subject().as_str(), "u-77");
    assert!(p.scopes().allows(&"calls:read".parse().unwrap()));
    assert!(!p.scopes().allows(&"calls:delete".parse().unwrap()));
    // Without the configured subject claim: refused, naming the part.
    let missing = json!({"sub": "u1", "exp": EXP});
    assert_eq!(
        v.verify(&hs256(&missing), NOW).await,
        Err(AuthError::ClaimMapping("subject"))
    );
}

/// A JWKS file of exactly 1 MiB is read; one byte more is refused before it is read.
#[tokio::test]
async fn file_jwks_reads_at_most_1_mib() {
    use palisade_auth::{FileJwks, JwksSource as _};
    let dir = std::env::temp_dir().join(format!("palisade-auth-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jwks.json");
    std::fs::write(&path, " ".repeat(1 << 20)).unwrap();
    assert_eq!(FileJwks::new(&path).fetch().await.unwrap().len(), 1 << 20);
    std::fs::write(&path, " ".repeat((1 << 20) + 1)).unwrap();
    assert_eq!(
        FileJwks::new(&path).fetch().await,
        Err(AuthError::JwksSource("JWKS file larger than 1 MiB".into()))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_jwks_cache_takes_a_refresh_interval_of_at_least_one_second() {
    use palisade_auth::{FileJwks, Jwks};
    use std::time::Duration;
    let cache = Jwks::new(FileJwks::new("/nonexistent"))
        .refresh_interval(Duration::from_secs(1))
        .unwrap()
        .unknown_kid_cooldown(Duration::from_secs(7));
    assert_eq!(
        format!("{cache:?}"),
        "Jwks { refresh_interval: 1s, unknown_kid_cooldown: 7s, .. }"
    );
    for under in [Duration::ZERO, Duration::from_millis(999)] {
        assert!(matches!(
            Jwks::new(FileJwks::new("/nonexistent")).refresh_interval(under),
            Err(AuthError::InvalidConfig(_))
        ));
    }
}

/// A token of exactly 16 KiB is read; one byte more is refused for its length.
#[test]
fn tokens_of_at_most_16_kib() {
    use palisade_auth::{MAX_TOKEN_LEN, TokenHeader};
    assert_eq!(MAX_TOKEN_LEN, 16 * 1024);
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
    let of_len = |len: usize| format!("{header}.{}.", "A".repeat(len - header.len() - 2));
    assert!(TokenHeader::parse(&of_len(MAX_TOKEN_LEN)).is_ok());
    assert_eq!(
        TokenHeader::parse(&of_len(MAX_TOKEN_LEN + 1)),
        Err(AuthError::MalformedToken("longer than 16 KiB"))
    );
}

#[test]
fn verified_claims_show_their_names_only() {
    let token = hs256(&json!({"sub": "u1", "phone": "+14155550143", "exp": EXP}));
    let claims = JwtValidation::new()
        .verify(&hs_keys(), &token, NOW)
        .unwrap();
    // The order of the names is serde_json's map order (sorted, or the token's with its
    // `preserve_order` feature, which another crate of a build may switch on).
    let shown = format!("{claims:?}");
    for name in [r#""exp""#, r#""phone""#, r#""sub""#] {
        assert!(shown.contains(name), "{shown}");
    }
    assert!(!shown.contains("+1415"), "{shown}");
    assert_eq!(claims.as_map().len(), 3);
    assert_eq!(claims.as_map()["sub"], "u1");
    let line = claims.to_json();
    assert!(!line.contains('\n'), "{line}");
    assert_eq!(
        serde_json::from_str::<Value>(&line).unwrap(),
        json!({"exp": EXP, "phone": "+14155550143", "sub": "u1"})
    );
}

/// NumericDate claims may be JSON floats (RFC 7519 §2: fractions allowed); negative or
/// out-of-range numbers are invalid, not read as 0 or saturated.
#[test]
fn numeric_dates_may_be_fractional_and_must_be_in_range() {
    let with_exp = |exp: Value| hs256(&json!({"sub": "u1", "exp": exp}));
    let ok = JwtValidation::new().verify(&hs_keys(), &with_exp(json!(EXP as f64 + 0.5)), NOW);
    assert!(ok.is_ok(), "{ok:?}");
    for bad in [json!(-1.5), json!(1e20)] {
        assert_eq!(
            JwtValidation::new().verify(&hs_keys(), &with_exp(bad.clone()), NOW),
            Err(AuthError::InvalidClaim("exp")),
            "{bad}"
        );
    }
}

/// What `jsonwebtoken` reports on a signed token, mapped to this crate's errors.
#[test]
fn signature_library_errors_are_mapped_to_what_was_wrong() {
    use jsonwebtoken::crypto::sign;
    let key = EncodingKey::from_secret(hs_secret().as_bytes()).unwrap();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let signed = |payload: &[u8]| {
        let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
        let signature = sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{message}.{signature}")
    };
    let v = JwtValidation::new();
    // A signature segment that is not base64url.
    let good = signed(br#"{"sub":"u1"}"#);
    let (message, _) = good.rsplit_once('.').unwrap();
    assert_eq!(
        v.verify(&hs_keys(), &format!("{message}.!!!"), NOW),
        Err(AuthError::MalformedToken("a segment is not base64url"))
    );
    // A correctly signed payload that is not JSON.
    assert_eq!(
        v.verify(&hs_keys(), &signed(b"not json"), NOW),
        Err(AuthError::MalformedToken(
            "the payload is not a JSON object"
        ))
    );
    // A signature of another key.
    let other = EncodingKey::from_secret(b"another secret of thirty-two bytes!").unwrap();
    let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(br#"{"sub":"u1"}"#));
    let forged = sign(message.as_bytes(), &other, Algorithm::HS256).unwrap();
    assert_eq!(
        v.verify(&hs_keys(), &format!("{message}.{forged}"), NOW),
        Err(AuthError::InvalidSignature)
    );
}

#[test]
fn keys_show_their_algorithm_and_id_only() {
    let key = VerifyingKey::hs256(hs_secret().as_bytes())
        .unwrap()
        .with_kid("k1");
    assert_eq!(
        format!("{key:?}"),
        r#"VerifyingKey { alg: HS256, kid: Some("k1"), .. }"#
    );
}

#[test]
fn a_symmetric_jwk_is_refused_as_such() {
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(json!({"kty": "oct", "k": RFC7515_A1_KEY, "kid": "x"})).unwrap();
    assert_eq!(
        VerifyingKey::from_jwk(&jwk).err(),
        Some(AuthError::InvalidKey(
            "symmetric (oct) JWK refused in a key set"
        ))
    );
}

/// A JWK's algorithm comes from its key type and curve; a declared `alg` must fit them.
#[test]
fn jwk_algorithms_follow_their_key_type_and_curve() {
    use palisade_auth::Algorithm as A;
    let jwk = |v: Value| -> jsonwebtoken::jwk::Jwk { serde_json::from_value(v).unwrap() };
    let doc: Value = serde_json::from_str(&fixture("jwks.json")).unwrap();
    let (rsa, p256) = (doc["keys"][0].clone(), doc["keys"][1].clone());
    // P-384: the curve's base point G (SEC 2 §2.5.1) as the public key.
    let p384 = json!({"kty": "EC", "crv": "P-384", "kid": "p384",
        "x": "qofKIr6LBTeOscce8yCtdG4dO2KLp5uYWfdB4IJUKjhVAvJdv1UpbDpUXjhydgq3",
        "y": "NhfeSpYmLG9dnpi_kpLcKfj0Hb0omhR86doxE7XwuMAKYLHOHX6BnXpDHXyQ6g5f"});
    let key = VerifyingKey::from_jwk(&jwk(p384.clone())).unwrap();
    assert_eq!((key.algorithm(), key.kid()), (A::ES384, Some("p384")));
    let mut declared = p384;
    declared["alg"] = json!("ES384");
    assert_eq!(
        VerifyingKey::from_jwk(&jwk(declared)).unwrap().algorithm(),
        A::ES384
    );
    // A declared algorithm of another family or curve is refused.
    let mut wrong = rsa;
    wrong["alg"] = json!("ES256");
    assert_eq!(
        VerifyingKey::from_jwk(&jwk(wrong)).err(),
        Some(AuthError::InvalidKey("JWK alg does not fit an RSA key"))
    );
    let mut wrong = p256;
    wrong["alg"] = json!("ES384");
    assert_eq!(
        VerifyingKey::from_jwk(&jwk(wrong)).err(),
        Some(AuthError::InvalidKey("JWK alg does not fit its curve"))
    );
}

/// Every RSA algorithm may be declared on an RSA JWK, EdDSA on an Ed25519 one; HMAC on
/// none.
#[test]
fn declared_jwk_algorithms_are_taken() {
    use palisade_auth::Algorithm as A;
    let jwk = |v: Value| -> jsonwebtoken::jwk::Jwk { serde_json::from_value(v).unwrap() };
    let doc: Value = serde_json::from_str(&fixture("jwks.json")).unwrap();
    let (rsa, ed) = (doc["keys"][0].clone(), doc["keys"][2].clone());
    for (name, alg) in [
        ("RS256", A::RS256),
        ("RS384", A::RS384),
        ("RS512", A::RS512),
        ("PS256", A::PS256),
        ("PS384", A::PS384),
        ("PS512", A::PS512),
    ] {
        let mut k = rsa.clone();
        k["alg"] = json!(name);
        assert_eq!(VerifyingKey::from_jwk(&jwk(k)).unwrap().algorithm(), alg);
    }
    let mut k = ed.clone();
    k["alg"] = json!("EdDSA");
    assert_eq!(
        VerifyingKey::from_jwk(&jwk(k)).unwrap().algorithm(),
        A::EdDSA
    );
    for hmac in ["HS256", "HS384", "HS512"] {
        let mut k = rsa.clone();
        k["alg"] = json!(hmac);
        assert_eq!(
            VerifyingKey::from_jwk(&jwk(k)).err(),
            Some(AuthError::InvalidKey("JWK alg does not fit an RSA key"))
        );
    }
}

/// A JWKS document of exactly 1 MiB is read; one byte more is refused before parsing.
#[test]
fn jwks_documents_of_at_most_1_mib() {
    let doc = fixture("jwks.json");
    let doc = doc.trim_end();
    let padded = |len: usize| format!("{doc}{}", " ".repeat(len - doc.len()));
    let set = KeySet::from_jwks_json(&padded(1 << 20)).unwrap();
    assert_eq!(set.keys().len(), 3);
    assert!(set.contains_kid("ec-1") && set.contains_kid("ed-1"));
    assert!(!set.contains_kid("ec-2"));
    assert_eq!(
        KeySet::from_jwks_json(&padded((1 << 20) + 1)).err(),
        Some(AuthError::InvalidKey("JWKS larger than 1 MiB"))
    );
}

/// A JWK whose numbers are no key (an EC point off its curve) is taken into a set, and
/// refused as unusable when a token needs it, not reported as a bad signature.
#[test]
fn an_unusable_key_is_reported_as_such() {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(json!({
        "kty": "EC", "crv": "P-256", "kid": "ec-1",
        "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])
    }))
    .unwrap();
    let set = KeySet::single(VerifyingKey::from_jwk(&jwk).unwrap());
    assert_eq!(
        strict().verify(&set, &token("es256.jwt"), NOW),
        Err(AuthError::InvalidKey("the verifying key is unusable"))
    );
}

#[test]
fn a_signer_keeps_its_algorithm() {
    use palisade_auth::{Algorithm as A, JwtSigner};
    let secret = [7u8; 64];
    for alg in [A::HS256, A::HS384, A::HS512] {
        let signer = JwtSigner::hmac(alg, &secret).unwrap();
        assert_eq!(signer.algorithm(), alg);
        assert_eq!(signer.verifying_key().unwrap().algorithm(), alg);
    }
}
