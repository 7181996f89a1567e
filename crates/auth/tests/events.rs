//! The events of `Authenticator` (target `palisade_auth`): `auth.failed` with a fixed reason,
//! `auth.legacy_token_blocked` and `auth.legacy_token_allowed`, never a credential. One test
//! in its own binary, so the scoped subscriber sees every event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use palisade_auth::{
    ApiKeyPrefix, ApiKeys, Authenticator, ExposeSecret, KeySpec, LegacyTokens, MemoryApiKeyStore,
    Pepper, Peppers, Principal, ScopeSet, SecretBox,
};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const LEGACY: &str = "retired-shared-token-0123456789";
const ALLOWED: &str = "migrating-shared-token-0123456789";
const NOW: u64 = 1_800_000_000;

#[test]
fn events_name_the_reason_and_never_the_credential() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_target(true)
        .finish();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let key = tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            let peppers = Peppers::new(
                Pepper::new("p1", SecretBox::new(Box::from([1u8; 32].as_slice()))).unwrap(),
            );
            let keys = ApiKeys::new(
                MemoryApiKeyStore::new(),
                peppers,
                ApiKeyPrefix::new("pal").unwrap(),
            );
            let issued = keys
                .issue(KeySpec {
                    tenant: "acme".parse().unwrap(),
                    owner: "client-1".parse().unwrap(),
                    scopes: ScopeSet::new(),
                    ttl: None,
                })
                .await
                .unwrap();
            keys.revoke(&issued.record.id).await.unwrap();
            let migrating = Principal::new("acme".parse().unwrap(), "legacy".parse().unwrap());
            let auth = Authenticator::new().api_keys(keys).legacy_tokens(
                LegacyTokens::new()
                    .with_token(LEGACY.as_bytes())
                    .with_token(ALLOWED.as_bytes())
                    .allow_until(NOW + 1, migrating),
            );
            let key = issued.key.expose_secret().to_owned();
            let revoked = format!("Bearer {key}");
            let _ = auth.authenticate(Some(revoked.as_bytes()), None, NOW).await;
            let _ = auth.authenticate(None, None, NOW).await;
            // After the window both retired tokens are blocked; inside it, allowed.
            let _ = auth
                .authenticate(Some(format!("Bearer {LEGACY}").as_bytes()), None, NOW + 1)
                .await;
            let _ = auth
                .authenticate(Some(format!("Bearer {ALLOWED}").as_bytes()), None, NOW)
                .await;
            key
        })
    });
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].contains("palisade_auth") && lines[0].contains("event=\"auth.failed\""));
    assert!(
        lines[0].contains("reason=\"revoked_api_key\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("reason=\"missing_credential\""),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("event=\"auth.legacy_token_blocked\""),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("event=\"auth.legacy_token_allowed\""),
        "{}",
        lines[3]
    );
    assert!(lines[3].contains("subject=\"legacy\""), "{}", lines[3]);
    let secret = &key[key.len() - 49..];
    for credential in [LEGACY, ALLOWED, secret] {
        assert!(!text.contains(credential), "{text}");
    }
}
