//! The conformance suite against the memory store, on a multi-threaded runtime so the
//! concurrent cases really race.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use palisade_otp::{MemoryChallengeStore, testing};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_suite() {
    testing::run_all(Arc::new(MemoryChallengeStore::new())).await;
}
