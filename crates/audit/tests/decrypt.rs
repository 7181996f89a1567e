//! The `palisade-pii` hook: every decryption through `AuditedKeyring` is recorded with who,
//! which field of which row, and why; a failed decryption is recorded as a failure; no
//! plaintext leaves when the record cannot be written.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use palisade_audit::{
    Action, Actor, AuditError, AuditSink, AuditedKeyring, ChainKey, ChainKeys, Head, MemorySink,
    Outcome, Reason, Sealer, TenantId, verify,
};
use palisade_pii::{Context, ExposeSecret, Keyring};
use secrecy::SecretBox;

fn keys() -> ChainKeys {
    ChainKeys::new(ChainKey::new(1, SecretBox::new(Box::new([3; 32]))).unwrap())
}

#[tokio::test]
async fn decryptions_are_recorded_with_their_reason() {
    let keyring = Keyring::generate().unwrap();
    let sink = MemorySink::new(Sealer::new(keys()));
    let audited = AuditedKeyring::new(&keyring, &sink);
    let ctx = Context::new("acme", "leads", "phone", "lead-17");
    let stored = keyring.encrypt_to_text(&ctx, b"+14389007409").unwrap();
    let agent = Actor::parse("u-7").unwrap();

    let plain = audited
        .decrypt_text(
            &agent,
            &ctx,
            &stored,
            Reason::new("callback requested").unwrap(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(plain.expose_secret(), b"+14389007409");

    // The same ciphertext under another row does not decrypt: recorded as a failure.
    let other = Context::new("acme", "leads", "phone", "lead-18");
    match audited
        .decrypt_text(
            &agent,
            &other,
            &stored,
            Reason::new("callback").unwrap(),
            None,
        )
        .await
    {
        Err(AuditError::Decryption(_)) => {}
        other => panic!("{other:?}"),
    }

    let tenant = TenantId::new("acme").unwrap();
    let events = sink.read(&tenant, 0, 10).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].action, Action::PII_DECRYPT);
    assert_eq!(events[0].resource.to_string(), "leads.phone:lead-17");
    assert_eq!(events[0].actor.subject().as_str(), "u-7");
    assert_eq!(
        events[0].reason.as_ref().unwrap().as_str(),
        "callback requested"
    );
    assert_eq!(events[0].outcome, Outcome::Success);
    assert_eq!(events[1].outcome, Outcome::Failure);
    assert_eq!(events[1].resource.id.as_str(), "lead-18");
    // No plaintext in the record.
    assert!(
        !events
            .iter()
            .any(|e| e.to_json_line().contains("4389007409"))
    );
    verify(&keys(), &tenant, Head::GENESIS, &events).unwrap();
    assert_eq!(audited.history(&ctx, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_unrecordable_context_decrypts_nothing() {
    let keyring = Keyring::generate().unwrap();
    let sink = MemorySink::new(Sealer::new(keys()));
    let audited = AuditedKeyring::new(&keyring, &sink);
    // A tenant with a space is not a tenant id: refused before decrypting.
    let ctx = Context::new("a b", "leads", "phone", "lead-17");
    let stored = keyring.encrypt_to_text(&ctx, b"secret").unwrap();
    let r = audited
        .decrypt_text(
            &Actor::parse("u-7").unwrap(),
            &ctx,
            &stored,
            Reason::new("check").unwrap(),
            None,
        )
        .await;
    assert!(matches!(r, Err(AuditError::InvalidField { .. })));
}
