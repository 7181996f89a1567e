//! Tiers: a policy per tier, and unlimited tiers decided without a store round trip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use async_trait::async_trait;
use palisade_ratelimit::{
    Cause, Key, Limit, MemoryStore, Policy, Quota, RateLimitError, RateLimitStore, Tier, TierLimit,
    Tiers, Verdict,
};

/// A store that is never there: every call is a store failure.
struct Unreachable;

#[async_trait]
impl RateLimitStore for Unreachable {
    async fn apply(&self, _: &Key, _: &Policy, _: u32) -> Result<Verdict, RateLimitError> {
        Err(down())
    }

    async fn block(&self, _: &Key, _: Duration) -> Result<(), RateLimitError> {
        Err(down())
    }

    async fn unblock(&self, _: &Key) -> Result<(), RateLimitError> {
        Err(down())
    }
}

fn down() -> RateLimitError {
    RateLimitError::Unavailable {
        store: "unreachable",
        reason: "a tier reached the store".to_owned(),
    }
}

fn per_day(n: u64) -> Policy {
    Policy::single(Limit::gcra("bookings", Quota::per_day(n).unwrap()).unwrap()).unwrap()
}

/// The booking agent's plans: free 10 a day, basic 100, pro 1,000, enterprise unlimited.
fn plans() -> Tiers {
    Tiers::new()
        .with(Tier::Free, per_day(10))
        .with(Tier::Basic, per_day(100))
        .with(Tier::Pro, per_day(1_000))
        .with_unlimited(Tier::Enterprise)
}

/// An unlimited tier is decided without the store: it answers even when the store is down,
/// while a limited tier reaches it (and fails with it).
#[tokio::test]
async fn an_unlimited_tier_never_reaches_the_store() {
    let tiers = plans();
    let key = Key::from(7u64);
    for _ in 0..10_000 {
        let v = tiers
            .check(&Unreachable, Tier::Enterprise, &key, 1)
            .await
            .unwrap();
        assert!(v.is_allowed());
        assert_eq!(v.cause(), Cause::Unlimited);
        assert!(v.decisions().is_empty(), "no limit consulted");
        assert_eq!(v.retry_after(), None);
    }
    // The largest cost is admitted too; a cost of 0 is an error, as on every store.
    let v = tiers
        .check(&Unreachable, Tier::Enterprise, &key, u32::MAX)
        .await
        .unwrap();
    assert_eq!(v.cause(), Cause::Unlimited);
    assert!(matches!(
        tiers.check(&Unreachable, Tier::Enterprise, &key, 0).await,
        Err(RateLimitError::InvalidCost { cost: 0, .. })
    ));
    for tier in [Tier::Free, Tier::Basic, Tier::Pro] {
        let err = tiers.check(&Unreachable, tier, &key, 1).await.unwrap_err();
        assert!(err.is_store_failure(), "{tier}: {err}");
    }
}

/// Limited tiers count in the store, each under its own policy; the unlimited one keeps no
/// state there.
#[tokio::test]
async fn limited_tiers_go_through_the_store() {
    let tiers = plans();
    let store = MemoryStore::new();
    let key = Key::from(8u64);
    tiers
        .check(&store, Tier::Enterprise, &key, 1)
        .await
        .unwrap();
    assert!(store.is_empty(), "no state for an unlimited tier");
    for i in 0..10 {
        let v = tiers.check(&store, Tier::Free, &key, 1).await.unwrap();
        assert_eq!(v.cause(), Cause::Admitted, "booking {i}");
    }
    let v = tiers.check(&store, Tier::Free, &key, 1).await.unwrap();
    assert_eq!(v.cause(), Cause::Limited, "the 11th booking of the day");
    // Another tier is another policy: its own counter for the same key.
    let v = tiers.check(&store, Tier::Basic, &key, 1).await.unwrap();
    assert_eq!(v.cause(), Cause::Admitted);
    assert_eq!(store.len(), 2);
}

#[tokio::test]
async fn an_unlimited_key_on_a_deny_list_elsewhere_is_still_unlimited() {
    // The unlimited tier has no policy, so no access list: a deny list belongs to a limited
    // tier's policy and screens that tier only.
    let key = Key::from(9u64);
    let denied = per_day(10).with_access(palisade_ratelimit::AccessList::new().deny(key));
    let tiers = Tiers::new()
        .with(Tier::Free, denied)
        .with_unlimited(Tier::Enterprise);
    let store = MemoryStore::new();
    let free = tiers.check(&store, Tier::Free, &key, 1).await.unwrap();
    assert_eq!(free.cause(), Cause::Denylisted);
    let enterprise = tiers
        .check(&store, Tier::Enterprise, &key, 1)
        .await
        .unwrap();
    assert_eq!(enterprise.cause(), Cause::Unlimited);
}

#[tokio::test]
async fn settings_replace_each_other_and_unknown_tiers_are_errors() {
    let tiers = plans();
    assert!(matches!(
        tiers.limit(Tier::Enterprise),
        Ok(TierLimit::Unlimited)
    ));
    assert!(matches!(tiers.limit(Tier::Pro), Ok(TierLimit::Limited(p)) if p == &per_day(1_000)));
    assert_eq!(
        tiers.policy(Tier::Enterprise).unwrap_err().to_string(),
        "no policy for tier `enterprise`",
        "an unlimited tier has no policy"
    );

    let tiers = Tiers::new()
        .with_unlimited(Tier::Pro)
        .with(Tier::Pro, per_day(5));
    assert_eq!(
        tiers.policy(Tier::Pro).unwrap(),
        &per_day(5),
        "a policy replaces unlimited"
    );
    let tiers = tiers.with_unlimited(Tier::Pro);
    assert!(
        matches!(tiers.limit(Tier::Pro), Ok(TierLimit::Unlimited)),
        "and back"
    );

    let store = MemoryStore::new();
    assert!(matches!(
        tiers.check(&store, Tier::Free, &Key::from(1u64), 1).await,
        Err(RateLimitError::UnknownTier { tier: "free" })
    ));
    assert!(matches!(
        tiers.limit(Tier::Basic),
        Err(RateLimitError::UnknownTier { tier: "basic" })
    ));
}

/// Each `counter!` call as a `name{tier=…,outcome=…}` line (the macro registers the counter on
/// every call), recorded on this thread only.
#[derive(Clone, Default)]
struct Counted(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl metrics::CounterFn for Counted {
    fn increment(&self, value: u64) {
        let _ = value;
    }
    fn absolute(&self, _: u64) {}
}

struct Recorder(Counted);

impl metrics::Recorder for Recorder {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        self.0
            .0
            .lock()
            .unwrap()
            .push(format!("{}{{{}}}", key.name(), labels.join(",")));
        metrics::Counter::from_arc(std::sync::Arc::new(self.0.clone()))
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }
    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

/// Every decision is counted by tier and outcome, the unlimited tier's included (it reaches no
/// store, but its traffic still shows).
#[test]
fn every_tier_decision_is_counted_unlimited_included() {
    let counted = Counted::default();
    let recorder = Recorder(counted.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            let tiers = plans();
            let key = Key::from(9u64);
            let store = MemoryStore::new();
            tiers
                .check(&Unreachable, Tier::Enterprise, &key, 1)
                .await
                .unwrap();
            for _ in 0..11 {
                tiers.check(&store, Tier::Free, &key, 1).await.unwrap();
            }
            tiers
                .check(&Unreachable, Tier::Pro, &key, 1)
                .await
                .unwrap_err();
        });
    });
    let lines = counted.0.lock().unwrap().clone();
    for want in [
        "palisade_ratelimit_tier_decisions_total{tier=enterprise,outcome=unlimited}",
        "palisade_ratelimit_tier_decisions_total{tier=free,outcome=admitted}",
        "palisade_ratelimit_tier_decisions_total{tier=free,outcome=refused}",
        "palisade_ratelimit_tier_decisions_total{tier=pro,outcome=error}",
    ] {
        assert!(lines.iter().any(|l| l == want), "{want} not in {lines:?}");
    }
    assert_eq!(lines.iter().filter(|l| l.contains("tier=free")).count(), 11);
}
