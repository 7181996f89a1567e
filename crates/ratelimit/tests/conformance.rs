//! The conformance suite against every store of this crate: the memory store on a manual clock
//! and on the real clock, a fallback store with its shield in front of a healthy primary, and
//! one failing over from a primary that is down.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use palisade_ratelimit::testing::{FailingStore, Harness, MemoryHarness};
use palisade_ratelimit::{FallbackMode, FallbackStore, MemoryStore, RateLimitStore};

mod memory {
    async fn harness() -> palisade_ratelimit::testing::MemoryHarness {
        palisade_ratelimit::testing::MemoryHarness::new()
    }
    palisade_ratelimit::conformance_suite!(harness);
}

/// The suite as a remote store sees it: real clock, real sleeps.
mod real_time {
    async fn harness() -> palisade_ratelimit::testing::RealTimeHarness {
        palisade_ratelimit::testing::RealTimeHarness::new(std::time::Duration::from_millis(100))
    }
    palisade_ratelimit::conformance_suite!(harness);
}

/// A fallback store in front of a healthy memory primary, with the shield on: the shield's
/// local answers must agree with what the primary would say.
struct Shielded(MemoryHarness);

#[async_trait]
impl Harness for Shielded {
    async fn store(&self) -> Arc<dyn RateLimitStore> {
        let clock = self.0.clock();
        Arc::new(
            FallbackStore::new(
                MemoryStore::with_clock(clock.clone()),
                MemoryStore::with_clock(clock.clone()),
                FallbackMode::FailClosed,
            )
            .with_shield(1_000)
            .with_clock(clock),
        )
    }

    async fn advance(&self, d: Duration) {
        self.0.advance(d).await;
    }
}

mod shielded {
    async fn harness() -> super::Shielded {
        super::Shielded(super::MemoryHarness::new())
    }
    palisade_ratelimit::conformance_suite!(harness);
}

/// A fallback store whose primary is down: every answer comes from the secondary.
struct FailingOver(MemoryHarness);

#[async_trait]
impl Harness for FailingOver {
    async fn store(&self) -> Arc<dyn RateLimitStore> {
        let clock = self.0.clock();
        Arc::new(
            FallbackStore::new(
                FailingStore,
                MemoryStore::with_clock(clock.clone()),
                FallbackMode::Secondary,
            )
            .with_shield(1_000)
            .with_clock(clock),
        )
    }

    async fn advance(&self, d: Duration) {
        self.0.advance(d).await;
    }
}

mod failing_over {
    async fn harness() -> super::FailingOver {
        super::FailingOver(super::MemoryHarness::new())
    }
    palisade_ratelimit::conformance_suite!(harness);
}

/// The penalty-box suite on the memory store (manual clock, and real time).
mod quarantine_memory {
    async fn harness() -> palisade_ratelimit::testing::MemoryHarness {
        palisade_ratelimit::testing::MemoryHarness::new()
    }
    palisade_ratelimit::penalty_box_suite!(harness);
}

mod quarantine_real_time {
    async fn harness() -> palisade_ratelimit::testing::RealTimeHarness {
        palisade_ratelimit::testing::RealTimeHarness::new(std::time::Duration::from_millis(50))
    }
    palisade_ratelimit::penalty_box_suite!(harness);
}
