//! The conformance suite on the memory and JSONL sinks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroU32;
use std::sync::Arc;

use palisade_audit::{FsyncPolicy, JsonlSink, MemorySink, testing};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_sink_passes_the_suite() {
    testing::run_all(Arc::new(MemorySink::new(testing::test_sealer()))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn jsonl_sink_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let sink = JsonlSink::open(&path, testing::test_sealer(), FsyncPolicy::Never).unwrap();
    testing::run_all(Arc::new(sink)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn jsonl_sink_with_fsync_passes_the_concurrency_case() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    for policy in [
        FsyncPolicy::Always,
        FsyncPolicy::Every(NonZeroU32::new(16).unwrap()),
    ] {
        let sink = JsonlSink::open(&path, testing::test_sealer(), policy).unwrap();
        testing::concurrent_appenders_make_one_chain(Arc::new(sink)).await;
    }
}

/// Reopening the file finds every tenant's head (and the purge anchors), so appends
/// continue each chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_sink_reopens_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let sink = JsonlSink::open(&path, testing::test_sealer(), FsyncPolicy::Never).unwrap();
    testing::export_then_purge_leaves_a_verifiable_rest(&sink).await;
    testing::append_chains_and_verifies(&sink).await;
    let tenant = testing::unique_tenant("reopen");
    use palisade_audit::AuditSink;
    for i in 1..=3 {
        sink.append(testing::draft(&tenant, "u-1", i, i))
            .await
            .unwrap();
    }
    drop(sink);
    let sink = JsonlSink::open(&path, testing::test_sealer(), FsyncPolicy::Never).unwrap();
    assert_eq!(sink.head(&tenant).await.unwrap().seq, 3);
    assert_eq!(
        sink.append(testing::draft(&tenant, "u-1", 4, 4))
            .await
            .unwrap()
            .seq,
        4
    );
    let events = testing::read_all(&sink, &tenant).await;
    palisade_audit::verify(
        &testing::test_keys(),
        &tenant,
        palisade_audit::Head::GENESIS,
        &events,
    )
    .unwrap();
}

/// A key rotation: the file reopened with the rotated keys continues each chain through a
/// key-epoch event chained under the old epoch; the whole verifies with both keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_rotation_continues_the_chain() {
    use palisade_audit::{Action, AuditSink, Head, verify};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let tenant = testing::unique_tenant("rotation");
    let old = JsonlSink::open(&path, testing::test_sealer(), FsyncPolicy::Never).unwrap();
    for i in 1..=3 {
        old.append(testing::draft(&tenant, "u-4", i, i))
            .await
            .unwrap();
    }
    drop(old);
    let new = JsonlSink::open(&path, testing::rotated_sealer(), FsyncPolicy::Never).unwrap();
    let e = new
        .append(testing::draft(&tenant, "u-4", 4, 4))
        .await
        .unwrap();
    assert_eq!((e.seq, e.epoch), (5, 2));
    let events = testing::read_all(&new, &tenant).await;
    assert_eq!(events[3].action, Action::KEY_EPOCH);
    verify(&testing::rotated_keys(), &tenant, Head::GENESIS, &events).unwrap();
    assert_eq!(
        verify(&testing::test_keys(), &tenant, Head::GENESIS, &events)
            .unwrap_err()
            .seq,
        5
    );
}
