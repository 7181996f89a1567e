//! The conformance and cross-tenant suites against the memory stores, on a multi-threaded
//! runtime so the concurrent cases really race.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use palisade_rbac::{MemoryAssignmentStore, MemoryRelationStore, testing};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_stores_pass_the_suites() {
    testing::run_all(
        Arc::new(MemoryAssignmentStore::new()),
        Arc::new(MemoryRelationStore::new()),
    )
    .await;
}

/// The same suites through the `Arc<S>` forwarding impls of both traits (a store shared as
/// `Arc<MemoryAssignmentStore>` is itself an `AssignmentStore`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_stores_pass_the_suites_through_arc() {
    testing::run_all(
        Arc::new(Arc::new(MemoryAssignmentStore::new())),
        Arc::new(Arc::new(MemoryRelationStore::new())),
    )
    .await;
}
