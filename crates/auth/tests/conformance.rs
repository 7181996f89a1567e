//! The `ApiKeyStore` conformance suite on the memory store.
use std::sync::Arc;

use palisade_auth::{MemoryApiKeyStore, testing};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_passes_the_suite() {
    testing::run_all(Arc::new(MemoryApiKeyStore::new())).await;
}
