//! API keys: the checksum catches every single-character change (property), the format's
//! refusals, verification through `ApiKeys` on the memory store, and the `Authenticator`
//! (API key or JWT told apart by prefix, the legacy kill switch).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use palisade_auth::{
    ApiKey, ApiKeyPrefix, ApiKeys, AuthError, Authenticator, ExposeSecret, JwtValidation,
    JwtVerifier, KeySet, KeySpec, LegacyTokens, LegacyVerdict, MemoryApiKeyStore, Method, Pepper,
    Peppers, SecretBox, VerifyingKey,
};
use palisade_ratelimit::{ManualClock, Timestamp};
use palisade_rbac::{Principal, ScopeSet, SubjectId, TenantId};
use proptest::prelude::*;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn new_key(prefix: &str) -> String {
    let key = ApiKey::generate(&ApiKeyPrefix::new(prefix).unwrap()).unwrap();
    key.to_secret_string().expose_secret().to_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Replacing any one character of a valid key by any other printable ASCII character
    /// gives a key that is refused (malformed, or a checksum mismatch): never a valid key.
    #[test]
    fn checksum_catches_every_single_character_change(
        prefix in "[a-z][a-z0-9]{0,15}",
        pos in any::<prop::sample::Index>(),
        replacement in 0x21u8..0x7f,
    ) {
        let key = new_key(&prefix);
        let i = pos.index(key.len());
        prop_assume!(key.as_bytes()[i] != replacement);
        let mut bytes = key.into_bytes();
        bytes[i] = replacement;
        let changed = String::from_utf8(bytes).unwrap();
        let r = ApiKey::parse(&changed);
        prop_assert!(
            matches!(r, Err(AuthError::ChecksumMismatch | AuthError::MalformedApiKey(_))),
            "{changed}: {r:?}"
        );
    }

    /// The parser never panics and accepts only what it can print back identically.
    #[test]
    fn parser_accepts_only_canonical_keys(text in "\\PC{0,100}") {
        if let Ok(key) = ApiKey::parse(&text) {
            let printed = key.to_secret_string();
            prop_assert_eq!(printed.expose_secret(), text.as_str());
        }
    }
}

/// Exhaustive over one key: every position, every other base62 character.
#[test]
fn every_single_base62_substitution_is_caught() {
    let key = new_key("pal");
    for i in 0..key.len() {
        for &c in BASE62 {
            if key.as_bytes()[i] == c || key.as_bytes()[i] == b'_' {
                continue;
            }
            let mut b = key.clone().into_bytes();
            b[i] = c;
            let changed = String::from_utf8(b).unwrap();
            assert!(ApiKey::parse(&changed).is_err(), "{i} {}", c as char);
        }
    }
}

#[test]
fn generated_keys_have_the_documented_shape() {
    let key = new_key("pal");
    let parts: Vec<&str> = key.split('_').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], "pal");
    assert_eq!(parts[1].len(), palisade_auth::ID_LEN);
    assert_eq!(
        parts[2].len(),
        palisade_auth::SECRET_LEN + palisade_auth::CHECKSUM_LEN
    );
    assert!(
        parts[1..]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_alphanumeric()))
    );
    // Two keys never share an id or a secret.
    assert_ne!(new_key("pal"), key);
}

fn peppers() -> Peppers {
    Peppers::new(Pepper::new("p1", SecretBox::new(Box::from([9u8; 32].as_slice()))).unwrap())
}

fn spec(ttl: Option<Duration>) -> KeySpec {
    KeySpec {
        tenant: TenantId::new("acme").unwrap(),
        owner: SubjectId::new("client-7").unwrap(),
        scopes: ScopeSet::parse_list("calls:read").unwrap(),
        ttl,
    }
}

#[tokio::test]
async fn last_used_is_written_at_most_once_per_minute() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
    let store = MemoryApiKeyStore::with_clock(clock.clone());
    let keys = ApiKeys::new(store, peppers(), ApiKeyPrefix::new("pal").unwrap());
    let issued = keys
        .issue(spec(Some(Duration::from_secs(3600))))
        .await
        .unwrap();
    let text = issued.key.expose_secret();
    let id = &issued.record.id;
    let used = async || {
        use palisade_auth::ApiKeyStore;
        keys.store().get(id).await.unwrap().unwrap().last_used_at
    };
    keys.verify(text).await.unwrap();
    assert_eq!(used().await, Some(Timestamp::from_unix_secs(1_000)));
    clock.advance(Duration::from_secs(59));
    keys.verify(text).await.unwrap();
    assert_eq!(used().await, Some(Timestamp::from_unix_secs(1_000)));
    clock.advance(Duration::from_secs(1));
    keys.verify(text).await.unwrap();
    assert_eq!(used().await, Some(Timestamp::from_unix_secs(1_060)));
    // Expiry on the store's clock.
    clock.set(Timestamp::from_unix_secs(1_000 + 3600));
    assert_eq!(keys.verify(text).await, Err(AuthError::ExpiredApiKey));
}

#[tokio::test]
async fn a_key_of_another_prefix_or_a_mistyped_key_never_reaches_the_store() {
    let keys = ApiKeys::new(
        MemoryApiKeyStore::new(),
        peppers(),
        ApiKeyPrefix::new("pal").unwrap(),
    );
    let issued = keys.issue(spec(None)).await.unwrap();
    let text = issued.key.expose_secret().to_owned();
    let mut typo = text.clone().into_bytes();
    let last = typo.len() - 10;
    typo[last] = if typo[last] == b'a' { b'b' } else { b'a' };
    assert_eq!(
        keys.verify(&String::from_utf8(typo).unwrap()).await,
        Err(AuthError::ChecksumMismatch)
    );
    assert_eq!(
        keys.verify(&new_key("other")).await,
        Err(AuthError::UnknownApiKey)
    );
}

const LEGACY: &str = "old-shared-token-from-2019";

fn jwt_verifier() -> (JwtVerifier, String) {
    let secret = [5u8; 32];
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": "u1", "tenant": "acme", "exp": 2_000_000_000u64}),
        &jsonwebtoken::EncodingKey::from_secret(&secret).unwrap(),
    )
    .unwrap();
    let v = JwtVerifier::with_keys(
        KeySet::single(VerifyingKey::hs256(&secret).unwrap()),
        JwtValidation::new(),
    );
    (v, token)
}

async fn authenticator(legacy: LegacyTokens) -> (Authenticator, String, String) {
    let keys = ApiKeys::new(
        MemoryApiKeyStore::new(),
        peppers(),
        ApiKeyPrefix::new("pal").unwrap(),
    );
    let issued = keys.issue(spec(None)).await.unwrap();
    let (jwt, token) = jwt_verifier();
    let auth = Authenticator::new()
        .api_keys(keys)
        .jwt(jwt)
        .legacy_tokens(legacy);
    (auth, issued.key.expose_secret().to_owned(), token)
}

const NOW: u64 = 1_800_000_000;

#[tokio::test]
async fn api_keys_and_jwts_are_told_apart_by_prefix() {
    let (auth, key, token) = authenticator(LegacyTokens::new()).await;
    let bearer = |t: &str| format!("Bearer {t}").into_bytes();
    let (p, m) = auth
        .authenticate(Some(&bearer(&key)), None, NOW)
        .await
        .unwrap();
    assert_eq!((p.subject().as_str(), m), ("client-7", Method::ApiKey));
    let (p, m) = auth
        .authenticate(Some(&bearer(&token)), None, NOW)
        .await
        .unwrap();
    assert_eq!((p.subject().as_str(), m), ("u1", Method::Jwt));
    // The configured header carries the raw key.
    let (_, m) = auth
        .authenticate(None, Some(key.as_bytes()), NOW)
        .await
        .unwrap();
    assert_eq!(m, Method::ApiKey);
    for (authz, header, want) in [
        (None, None, AuthError::MissingCredential),
        (
            Some(b"Basic dTpw".to_vec()),
            None,
            AuthError::MalformedHeader,
        ),
        (
            Some(bearer("opaque-token")),
            None,
            AuthError::UnsupportedCredential,
        ),
        (
            Some(bearer(&key)),
            Some(key.as_bytes()),
            AuthError::MalformedHeader,
        ),
    ] {
        assert_eq!(
            auth.authenticate(authz.as_deref(), header, NOW)
                .await
                .unwrap_err(),
            want
        );
    }
}

#[tokio::test]
async fn legacy_token_is_blocked_whatever_else_the_request_carries() {
    let (auth, key, token) = authenticator(LegacyTokens::new().with_token(LEGACY.as_bytes())).await;
    type Case<'a> = (Option<Vec<u8>>, Option<&'a [u8]>);
    let cases: Vec<Case<'_>> = vec![
        (Some(format!("Bearer {LEGACY}").into_bytes()), None),
        (Some(format!("Token {LEGACY}").into_bytes()), None),
        (Some(LEGACY.as_bytes().to_vec()), None),
        (None, Some(LEGACY.as_bytes())),
        // A valid API key or JWT beside it does not help.
        (
            Some(format!("Bearer {key}").into_bytes()),
            Some(LEGACY.as_bytes()),
        ),
        (
            Some(format!("Bearer {LEGACY}").into_bytes()),
            Some(token.as_bytes()),
        ),
    ];
    for (authz, header) in cases {
        assert_eq!(
            auth.authenticate(authz.as_deref(), header, NOW).await,
            Err(AuthError::LegacyTokenBlocked)
        );
    }
}

#[test]
fn legacy_allow_mode_is_explicit_and_time_limited() {
    let hex = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(LEGACY.as_bytes());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let p = Principal::new(
        TenantId::new("acme").unwrap(),
        SubjectId::new("legacy-client").unwrap(),
    );
    let off = LegacyTokens::new().with_sha256_hex([&hex]).unwrap();
    assert_eq!(off.check(LEGACY.as_bytes(), NOW), LegacyVerdict::Blocked);
    assert_eq!(off.check(b"other", NOW), LegacyVerdict::NotLegacy);
    let window = off.clone().allow_until(NOW + 10, p.clone());
    assert_eq!(
        window.check(LEGACY.as_bytes(), NOW + 9),
        LegacyVerdict::Allowed(p)
    );
    assert_eq!(
        window.check(LEGACY.as_bytes(), NOW + 10),
        LegacyVerdict::Blocked
    );
    assert!(LegacyTokens::new().with_sha256_hex(["abc"]).is_err());
    assert!(!format!("{window:?}").contains(&hex));
}

#[tokio::test]
async fn methods_have_fixed_labels_and_the_authenticator_shows_no_secret() {
    assert_eq!(Method::ApiKey.as_str(), "api_key");
    assert_eq!(Method::Jwt.as_str(), "jwt");
    assert_eq!(Method::LegacyToken.as_str(), "legacy_token");
    assert_eq!(
        format!("{:?}", MemoryApiKeyStore::new()),
        "MemoryApiKeyStore { .. }"
    );
    let (auth, key, _) = authenticator(LegacyTokens::new()).await;
    let shown = format!("{auth:?}");
    assert!(
        shown.starts_with("Authenticator") && shown.contains(r#"api_key_prefixes: ["pal"]"#),
        "{shown}"
    );
    assert!(!shown.contains(&key), "{shown}");
}

/// A byte outside base62 in the id or the secret is a malformed key (said as such), not a
/// checksum mismatch: the key is refused before its checksum is computed.
#[test]
fn a_key_with_a_byte_outside_base62_is_malformed() {
    let key = new_key("pal");
    let id_at = "pal_".len();
    let secret_at = id_at + palisade_auth::ID_LEN + 1;
    for at in [id_at, secret_at, key.len() - 1] {
        for bad in ['-', '+', '/', '=', '!'] {
            let mut changed = key.clone();
            changed.replace_range(at..=at, &bad.to_string());
            assert!(
                matches!(ApiKey::parse(&changed), Err(AuthError::MalformedApiKey(_))),
                "{changed}"
            );
        }
    }
}

#[test]
fn legacy_tokens_show_counts_not_hashes() {
    let empty = LegacyTokens::new();
    assert!(empty.is_empty());
    let tokens = LegacyTokens::new()
        .with_token(b"old-shared-token-one")
        .with_token(b"old-shared-token-two");
    assert!(!tokens.is_empty());
    assert_eq!(
        format!("{tokens:?}"),
        "LegacyTokens { count: 2, allow_until: None }"
    );
}
