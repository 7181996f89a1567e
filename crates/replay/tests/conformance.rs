//! The `NonceStore` conformance suite, run against `MemoryNonceStore`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use palisade_replay::{MemoryNonceStore, NonceStore, testing};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_suite() {
    testing::run_all(Arc::new(MemoryNonceStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_suite_as_a_trait_object() {
    let store: Arc<dyn NonceStore> =
        Arc::new(MemoryNonceStore::builder().shards(1).build().unwrap());
    testing::run_all(store).await;
}
