//! The conformance suite every [`AuditSink`] must pass (feature `testing`).
//!
//! The same functions run against the memory and JSONL sinks here and against the Postgres
//! sink in `palisade-postgres`: chaining and verification, the reason policy writing
//! nothing, 8 concurrent appenders producing one valid chain without gaps, tenant
//! separation, every query criterion and the default limit, export then purge (the rest
//! verifies from the checkpoint, appends continue the chain, a wrong checkpoint is
//! refused), and a key rotation across two sink instances over the same storage. Every call
//! works under a fresh random tenant, so runs against a shared server never collide.
//!
//! The sink under test must be built with [`test_sealer`] (and, for
//! [`rotation_continues_the_chain`], the second with [`rotated_sealer`]).
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//! use palisade_audit::{MemorySink, testing};
//!
//! testing::run_all(Arc::new(MemorySink::new(testing::test_sealer()))).await;
//! # }
//! ```
//!
//! Each check panics with a message naming what failed, like any test assertion.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use palisade_rbac::{RoleName, TenantId};
use secrecy::SecretBox;

use crate::action::Action;
use crate::chain::{Head, Sealer, verify};
use crate::checkpoint::{CheckpointSigner, verify_with_checkpoints};
use crate::error::AuditError;
use crate::event::{Event, EventDraft};
use crate::fields::{Actor, Reason, Resource, ResourceId, ResourceType};
use crate::key::{ChainKey, ChainKeys};
use crate::policy::ReasonPolicy;
use crate::query::Query;
use crate::retention::export;
use crate::sink::AuditSink;

/// The suite's chain key of epoch 1 (32 bytes of `0x11`).
pub fn test_key(epoch: u32) -> ChainKey {
    let byte = u8::try_from(epoch % 200).unwrap().wrapping_mul(0x11);
    ChainKey::new(epoch, SecretBox::new(Box::new([byte; 32]))).unwrap()
}

/// The suite's keys: epoch 1 only.
pub fn test_keys() -> ChainKeys {
    ChainKeys::new(test_key(1))
}

/// The suite's keys after a rotation: epochs 1 and 2, 2 current.
pub fn rotated_keys() -> ChainKeys {
    test_keys().rotate(test_key(2)).unwrap()
}

/// The sealer the sink under test must use: [`test_keys`], the default policy.
pub fn test_sealer() -> Sealer {
    Sealer::new(test_keys())
}

/// The sealer of the second sink of [`rotation_continues_the_chain`]: [`rotated_keys`].
pub fn rotated_sealer() -> Sealer {
    Sealer::new(rotated_keys())
}

/// The suite's checkpoint signer (seed of 32 bytes `0x42`).
pub fn test_signer() -> CheckpointSigner {
    CheckpointSigner::from_seed(&SecretBox::new(Box::new([0x42; 32])))
}

/// A tenant unique to this call: `test-<random hex>`.
pub fn unique_tenant(label: &str) -> TenantId {
    use std::hash::{BuildHasher, RandomState};
    let a = RandomState::new().hash_one(label);
    let b = RandomState::new().hash_one(std::time::SystemTime::now());
    TenantId::new(format!("test-{label}-{a:016x}{b:08x}")).unwrap()
}

/// A `read` draft of `lead:<id>` by `actor`, at `time_ms`.
pub fn draft(tenant: &TenantId, actor: &str, id: u64, time_ms: u64) -> EventDraft {
    EventDraft::new(
        tenant.clone(),
        Actor::parse(actor)
            .unwrap()
            .with_role(RoleName::new("agent").unwrap()),
        Action::READ,
        Resource::new(
            ResourceType::new("lead").unwrap(),
            ResourceId::new(format!("lead-{id}")).unwrap(),
        ),
    )
    .at(time_ms)
}

/// Every stored event of `tenant`, ascending.
pub async fn read_all<S: AuditSink + ?Sized>(sink: &S, tenant: &TenantId) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    loop {
        let after = out.last().map_or(0, |e| e.seq);
        let batch = sink.read(tenant, after, 500).await.unwrap();
        if batch.is_empty() {
            return out;
        }
        out.extend(batch);
    }
}

/// Runs every case below.
pub async fn run_all(sink: Arc<dyn AuditSink>) {
    append_chains_and_verifies(&*sink).await;
    a_missing_reason_writes_nothing(&*sink).await;
    tenants_have_separate_chains(&*sink).await;
    queries_filter_and_limit(&*sink).await;
    export_then_purge_leaves_a_verifiable_rest(&*sink).await;
    concurrent_appenders_make_one_chain(sink).await;
}

/// 20 appends: sequence numbers 1..=20, the head is the last, the chain verifies and every
/// field is stored as given.
pub async fn append_chains_and_verifies<S: AuditSink + ?Sized>(sink: &S) {
    let tenant = unique_tenant("chain");
    assert_eq!(sink.head(&tenant).await.unwrap(), Head::GENESIS);
    let mut last = None;
    for i in 1..=20 {
        let d = draft(&tenant, "u-1", i, 1_764_000_000_000 + i);
        let d = if i == 3 {
            d.with_reason(Reason::new("ticket 4411").unwrap())
        } else {
            d
        };
        let e = sink.append(d).await.unwrap();
        assert_eq!(e.seq, i, "sequence numbers start at 1 without gaps");
        assert_eq!(e.epoch, 1);
        last = Some(e);
    }
    let events = read_all(sink, &tenant).await;
    assert_eq!(events.len(), 20);
    assert_eq!(events.last(), last.as_ref());
    assert_eq!(events[2].reason.as_ref().unwrap().as_str(), "ticket 4411");
    assert_eq!(events[0].resource.to_string(), "lead:lead-1");
    assert_eq!(events[0].actor.role().unwrap().as_str(), "agent");
    let head = verify(&test_keys(), &tenant, Head::GENESIS, &events).unwrap();
    assert_eq!(head.seq, 20);
    assert_eq!(sink.head(&tenant).await.unwrap(), head);
    assert_eq!(sink.read(&tenant, 18, 10).await.unwrap().len(), 2);
    assert_eq!(sink.read(&tenant, 0, 5).await.unwrap().len(), 5);
}

/// `export`, `anonymize` and resource type `recording` without a reason: refused with
/// [`AuditError::ReasonRequired`], nothing written; with a reason: stored.
pub async fn a_missing_reason_writes_nothing<S: AuditSink + ?Sized>(sink: &S) {
    let tenant = unique_tenant("reason");
    assert_eq!(sink.policy(), &ReasonPolicy::default());
    let actor = Actor::parse("u-2").unwrap();
    let lead = Resource::parse("lead:lead-1").unwrap();
    let recording = Resource::parse("recording:rec-1").unwrap();
    for (action, resource) in [
        (Action::EXPORT, &lead),
        (Action::ANONYMIZE, &lead),
        (Action::READ, &recording),
    ] {
        let d = EventDraft::new(tenant.clone(), actor.clone(), action, resource.clone());
        match sink.append(d).await {
            Err(AuditError::ReasonRequired { .. }) => {}
            other => panic!("expected ReasonRequired, got {other:?}"),
        }
        assert_eq!(sink.head(&tenant).await.unwrap(), Head::GENESIS);
        assert!(read_all(sink, &tenant).await.is_empty());
    }
    let d = EventDraft::new(tenant.clone(), actor, Action::EXPORT, recording)
        .with_reason(Reason::new("court order 2026-117").unwrap());
    assert_eq!(sink.append(d).await.unwrap().seq, 1);
}

/// Two tenants: each chain starts at 1 and verifies alone; one tenant's events never come
/// back for the other.
pub async fn tenants_have_separate_chains<S: AuditSink + ?Sized>(sink: &S) {
    let a = unique_tenant("sep-a");
    let b = unique_tenant("sep-b");
    for i in 1..=3 {
        assert_eq!(sink.append(draft(&a, "u-1", i, i)).await.unwrap().seq, i);
        assert_eq!(sink.append(draft(&b, "u-1", i, i)).await.unwrap().seq, i);
    }
    for t in [&a, &b] {
        let events = read_all(sink, t).await;
        assert!(events.iter().all(|e| &e.tenant == t));
        verify(&test_keys(), t, Head::GENESIS, &events).unwrap();
    }
}

/// Each criterion alone and combined; newest first; the default limit of 100.
pub async fn queries_filter_and_limit<S: AuditSink + ?Sized>(sink: &S) {
    let tenant = unique_tenant("query");
    let base = 1_764_000_000_000;
    for i in 0..120u64 {
        let actor = if i % 2 == 0 { "u-even" } else { "u-odd" };
        let mut d = draft(&tenant, actor, i % 10, base + i * 1000);
        if i % 30 == 0 {
            d = EventDraft::new(
                tenant.clone(),
                Actor::parse(actor).unwrap(),
                Action::CREDENTIAL_READ,
                Resource::parse("api_key:key-1").unwrap(),
            )
            .at(base + i * 1000);
        }
        sink.append(d).await.unwrap();
    }
    let all = sink.query(&tenant, &Query::new()).await.unwrap();
    assert_eq!(all.len(), 100, "default limit");
    assert_eq!(all[0].seq, 120, "newest first");
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq));
    let even = sink
        .query(
            &tenant,
            &Query::new()
                .actor(palisade_rbac::SubjectId::new("u-even").unwrap())
                .limit(1000),
        )
        .await
        .unwrap();
    assert_eq!(even.len(), 60);
    assert!(even.iter().all(|e| e.actor.subject().as_str() == "u-even"));
    let keys = sink
        .query(
            &tenant,
            &Query::new().resource_type(ResourceType::new("api_key").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(keys.len(), 4);
    let cred = sink
        .query(&tenant, &Query::new().action(Action::CREDENTIAL_READ))
        .await
        .unwrap();
    assert_eq!(cred, keys);
    let lead3 = sink
        .query(
            &tenant,
            &Query::new()
                .resource_type(ResourceType::new("lead").unwrap())
                .resource_id(ResourceId::new("lead-3").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(lead3.len(), 12);
    let window = sink
        .query(
            &tenant,
            &Query::new().between(base + 10_000, base + 20_000).limit(5),
        )
        .await
        .unwrap();
    assert_eq!(
        window.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![20, 19, 18, 17, 16],
        "[from, to) newest first, limited"
    );
    let none = sink
        .query(&unique_tenant("query-empty"), &Query::new())
        .await
        .unwrap();
    assert!(none.is_empty());
}

/// Export 1..=6 with a checkpoint, purge: 6 deleted, 7..=10 remain and verify from the
/// checkpoint, the anchor is the checkpoint, appends continue at 11; a checkpoint with
/// another MAC or of another tenant is refused; then everything is purged and the chain
/// continues from the anchor.
pub async fn export_then_purge_leaves_a_verifiable_rest<S: AuditSink + ?Sized>(sink: &S) {
    let tenant = unique_tenant("purge");
    for i in 1..=10 {
        sink.append(draft(&tenant, "u-3", i, i)).await.unwrap();
    }
    let signer = test_signer();
    let mut archive = Vec::new();
    let cp = export(sink, &tenant, 6, &signer, &mut archive)
        .await
        .unwrap();
    assert_eq!(cp.seq, 6);
    cp.verify(&signer.public_key()).unwrap();
    let lines: Vec<Event> = std::str::from_utf8(&archive)
        .unwrap()
        .lines()
        .map(|l| Event::from_json_line(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    verify_with_checkpoints(
        &test_keys(),
        &tenant,
        None,
        &lines,
        std::slice::from_ref(&cp),
    )
    .unwrap();

    let mut forged = cp.clone();
    forged.mac = lines[4].mac;
    assert!(matches!(
        sink.purge(&tenant, &forged).await,
        Err(AuditError::CheckpointMismatch { .. })
    ));
    let mut other = cp.clone();
    other.tenant = unique_tenant("purge-other");
    assert!(matches!(
        sink.purge(&tenant, &other).await,
        Err(AuditError::CheckpointMismatch { .. })
    ));
    assert_eq!(
        read_all(sink, &tenant).await.len(),
        10,
        "refused purges delete nothing"
    );

    assert_eq!(sink.purge(&tenant, &cp).await.unwrap(), 6);
    assert_eq!(sink.anchor(&tenant).await.unwrap().as_ref(), Some(&cp));
    let rest = read_all(sink, &tenant).await;
    assert_eq!(rest.first().map(|e| e.seq), Some(7));
    let head = verify(&test_keys(), &tenant, cp.head(), &rest).unwrap();
    assert_eq!(head.seq, 10);
    verify_with_checkpoints(&test_keys(), &tenant, Some(&cp), &rest, &[]).unwrap();
    let next = sink.append(draft(&tenant, "u-3", 11, 11)).await.unwrap();
    assert_eq!(next.seq, 11);
    let rest = read_all(sink, &tenant).await;
    verify(&test_keys(), &tenant, cp.head(), &rest).unwrap();
    assert!(matches!(
        export(sink, &tenant, 6, &signer, &mut Vec::new()).await,
        Err(AuditError::CheckpointMismatch { .. })
    ));

    // Everything purged: the head is the anchor's, and the chain continues from it.
    let mut archive = Vec::new();
    let all = export(sink, &tenant, 11, &signer, &mut archive)
        .await
        .unwrap();
    assert_eq!(std::str::from_utf8(&archive).unwrap().lines().count(), 5);
    assert_eq!(sink.purge(&tenant, &all).await.unwrap(), 5);
    assert!(read_all(sink, &tenant).await.is_empty());
    assert_eq!(sink.head(&tenant).await.unwrap(), all.head());
    assert_eq!(
        sink.append(draft(&tenant, "u-3", 12, 12))
            .await
            .unwrap()
            .seq,
        12
    );
    let rest = read_all(sink, &tenant).await;
    verify_with_checkpoints(&test_keys(), &tenant, Some(&all), &rest, &[]).unwrap();
}

/// 8 concurrent appenders, 25 events each: one chain of 200, sequence numbers 1..=200, that
/// verifies.
pub async fn concurrent_appenders_make_one_chain(sink: Arc<dyn AuditSink>) {
    let tenant = unique_tenant("concurrent");
    let tasks: Vec<_> = (0..8u64)
        .map(|w| {
            let sink = Arc::clone(&sink);
            let tenant = tenant.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    sink.append(draft(&tenant, &format!("u-{w}"), w * 100 + i, i))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let events = read_all(&*sink, &tenant).await;
    assert_eq!(events.len(), 200);
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    let head = verify(&test_keys(), &tenant, Head::GENESIS, &events).unwrap();
    assert_eq!(head.seq, 200);
}

/// `old` (built with [`test_sealer`]) and `new` (with [`rotated_sealer`]) over the same
/// storage: events by `old`, then by `new` (a key-epoch event is chained first, under epoch
/// 1), then the whole chain verifies with both keys and not with epoch 1 alone.
pub async fn rotation_continues_the_chain<S: AuditSink + ?Sized, T: AuditSink + ?Sized>(
    old: &S,
    new: &T,
) {
    let tenant = unique_tenant("rotation");
    for i in 1..=3 {
        old.append(draft(&tenant, "u-4", i, i)).await.unwrap();
    }
    let e = new.append(draft(&tenant, "u-4", 4, 4)).await.unwrap();
    assert_eq!((e.seq, e.epoch), (5, 2));
    new.append(draft(&tenant, "u-4", 5, 5)).await.unwrap();
    let events = read_all(new, &tenant).await;
    assert_eq!(events.len(), 6);
    assert_eq!(events[3].action, Action::KEY_EPOCH);
    assert_eq!((events[3].epoch, events[3].next_epoch()), (1, Some(2)));
    let head = verify(&rotated_keys(), &tenant, Head::GENESIS, &events).unwrap();
    assert_eq!(head.epoch, Some(2));
    let err = verify(&test_keys(), &tenant, Head::GENESIS, &events).unwrap_err();
    assert_eq!(err.seq, 5);
}
