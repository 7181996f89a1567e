//! `Outbox`: UUID v4 keys, stored keys parsed back, and one send per logical message across
//! instances sharing a store, under concurrency, with failed sends retried.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use palisade_replay::{
    Claim, IdempotencyKey, MemoryNonceStore, Outbox, OutboxError, ReplayError, Sent,
};
use palisade_webhook::{ManualClock, Timestamp};

#[test]
fn generated_keys_are_uuid_v4_and_distinct() {
    let keys: HashSet<String> = (0..1_000)
        .map(|_| IdempotencyKey::generate().unwrap().as_str().to_owned())
        .collect();
    assert_eq!(keys.len(), 1_000);
    for k in &keys {
        let b = k.as_bytes();
        assert_eq!(k.len(), 36);
        assert_eq!([b[8], b[13], b[18], b[23]], [b'-'; 4]);
        assert_eq!(b[14], b'4', "version 4: {k}");
        assert!(matches!(b[19], b'8' | b'9' | b'a' | b'b'), "variant: {k}");
        assert!(
            k.bytes()
                .all(|c| c == b'-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(IdempotencyKey::parse(k).unwrap().as_str(), k);
    }
}

#[test]
fn stored_keys_are_checked() {
    assert!(IdempotencyKey::parse("msg_42:attempt-group/7").is_ok());
    assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
    for bad in ["", "has space", "tab\t", "é", &"k".repeat(256)] {
        assert!(
            matches!(
                IdempotencyKey::parse(bad),
                Err(ReplayError::InvalidConfig { .. })
            ),
            "{bad:?}"
        );
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_failed_send_is_retried_and_a_sent_one_never_again() {
    rt().block_on(async {
        let outbox = Outbox::new(MemoryNonceStore::new(), "sms");
        let key = IdempotencyKey::generate().unwrap();
        let failed = outbox
            .send(&key, |_| async { Err::<(), _>("provider 503") })
            .await;
        assert!(matches!(failed, Err(OutboxError::Send("provider 503"))));
        let sent = outbox
            .send(&key, |k| async move { Ok::<_, ()>(k) })
            .await
            .unwrap();
        assert_eq!(
            sent,
            Sent::Now(key.clone()),
            "the sender got the stored key"
        );
        for _ in 0..3 {
            assert_eq!(
                outbox
                    .send(&key, |_| async { Ok::<_, ()>(key.clone()) })
                    .await
                    .unwrap(),
                Sent::Already
            );
        }
        // Another scope is another channel.
        let other = Outbox::new(MemoryNonceStore::new(), "email");
        assert!(matches!(
            other
                .send(&key, |_| async { Ok::<_, ()>(()) })
                .await
                .unwrap(),
            Sent::Now(())
        ));
    });
}

#[test]
fn a_send_in_flight_is_not_doubled() {
    rt().block_on(async {
        let store = Arc::new(MemoryNonceStore::new());
        let (a, b) = (Outbox::new(store.clone(), "sms"), Outbox::new(store, "sms"));
        let key = IdempotencyKey::generate().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let first = {
            let key = key.clone();
            tokio::spawn(async move {
                a.send(&key, |_| async move {
                    started_tx.send(()).unwrap();
                    rx.await.unwrap();
                    Ok::<_, ()>("sent by a")
                })
                .await
                .unwrap()
            })
        };
        started_rx.await.unwrap();
        assert_eq!(
            b.send(&key, |_| async { Ok::<_, ()>("sent by b") })
                .await
                .unwrap(),
            Sent::InFlight
        );
        tx.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Sent::Now("sent by a"));
        assert_eq!(
            b.send(&key, |_| async { Ok::<_, ()>("sent by b") })
                .await
                .unwrap(),
            Sent::Already
        );
    });
}

#[test]
fn racing_instances_send_each_message_once() {
    rt().block_on(palisade_replay::testing::outbox_sends_once(Arc::new(
        MemoryNonceStore::new(),
    )));
}

#[test]
fn a_key_shows_as_itself() {
    // Idempotency keys are not secrets (they travel in a request header): Display is the
    // header value, Debug names the type around it.
    let key = IdempotencyKey::parse("msg_42:attempt-group/7").unwrap();
    assert_eq!(key.to_string(), "msg_42:attempt-group/7");
    assert_eq!(format!("{key:?}"), "IdempotencyKey(msg_42:attempt-group/7)");
    let generated = IdempotencyKey::generate().unwrap();
    assert_eq!(generated.to_string(), generated.as_str());
}

#[test]
fn begin_sent_and_failed_answer_whether_the_lease_was_ours() {
    rt().block_on(async {
        let outbox = Outbox::new(MemoryNonceStore::new(), "sms");
        let key = IdempotencyKey::generate().unwrap();
        let Claim::Process(lease) = outbox.begin(&key).await.unwrap() else {
            panic!("a new key is to be sent")
        };
        assert_eq!(lease.namespace().as_str(), "idempotency:outbox:sms");
        assert_eq!(outbox.begin(&key).await.unwrap(), Claim::InProgress);
        assert!(
            outbox.failed(&lease).await.unwrap(),
            "our lease is released"
        );
        assert!(!outbox.failed(&lease).await.unwrap(), "only once");
        let Claim::Process(lease) = outbox.begin(&key).await.unwrap() else {
            panic!("a failed send is sent again")
        };
        assert!(outbox.sent(&lease).await.unwrap(), "our lease completes");
        assert!(!outbox.sent(&lease).await.unwrap(), "only once");
        assert_eq!(outbox.begin(&key).await.unwrap(), Claim::Skip);
    });
}

#[test]
fn ttl_and_lease_are_the_configured_ones() {
    rt().block_on(async {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000)));
        let store = MemoryNonceStore::builder()
            .clock(clock.clone())
            .build()
            .unwrap();
        let outbox = Outbox::new(store, "sms")
            .with_ttl(Duration::from_secs(3_600))
            .with_lease(Duration::from_secs(10));
        let key = IdempotencyKey::generate().unwrap();
        let Claim::Process(lease) = outbox.begin(&key).await.unwrap() else {
            panic!("a new key is to be sent")
        };
        assert_eq!(lease.ttl(), Duration::from_secs(3_600));
        clock.advance(Duration::from_secs(9));
        assert_eq!(outbox.begin(&key).await.unwrap(), Claim::InProgress);
        clock.advance(Duration::from_secs(1));
        let Claim::Process(lease) = outbox.begin(&key).await.unwrap() else {
            panic!("an expired lease is taken over")
        };
        assert!(outbox.sent(&lease).await.unwrap());
        clock.advance(Duration::from_secs(3_599));
        assert_eq!(outbox.begin(&key).await.unwrap(), Claim::Skip);
        clock.advance(Duration::from_secs(1));
        assert!(matches!(
            outbox.begin(&key).await.unwrap(),
            Claim::Process(_)
        ));
    });
}
