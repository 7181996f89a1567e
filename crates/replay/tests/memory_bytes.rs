//! Heap bytes per live entry of `MemoryNonceStore`, measured with dhat.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use palisade_replay::MemoryNonceStore;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[test]
fn bytes_per_entry() {
    let _profiler = dhat::Profiler::builder().testing().build();
    const N: u64 = 100_000;
    let store = MemoryNonceStore::new();
    let before = dhat::HeapStats::get().curr_bytes;
    for n in 0..N {
        store
            .insert_if_absent_now("stripe", &n.to_le_bytes(), Duration::from_secs(600))
            .unwrap();
    }
    let after = dhat::HeapStats::get().curr_bytes;
    let per_entry = (after - before) as f64 / N as f64;
    println!("MemoryNonceStore: {per_entry:.1} heap bytes per live entry at {N} entries");
    // A 16-byte fingerprint and an 8-byte expiry (plus a control byte), in hash tables that
    // are 44% to 88% full.
    assert!((25.0..=60.0).contains(&per_entry), "{per_entry}");
}
