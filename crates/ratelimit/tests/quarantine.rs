//! `Quarantine`: the events of a block and of its end, with the key's fingerprint and never
//! the key; the memory store's listing order and bounds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_ratelimit::{
    BlockCursor, Key, Limit, MAX_BLOCK_PAGE, ManualClock, MemoryStore, PenaltyBox, Policy,
    Quarantine, Quota, RateLimitStore, Timestamp,
};

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn logged(f: impl AsyncFnOnce()) -> String {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f());
    });
    buffer.text()
}

#[test]
fn blocks_and_their_ends_are_logged_without_the_key() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_700_000_000)));
    let store = Quarantine::new(MemoryStore::with_clock(clock.clone()));
    let policy = Policy::single(Limit::gcra("sender", Quota::per_minute(2).unwrap()).unwrap())
        .unwrap()
        .with_block(Duration::from_secs(600));
    let (flooder, other) = (Key::from("+14155550123"), Key::from("+14155550124"));
    let log = logged(async || {
        for _ in 0..10 {
            store.check(&flooder, &policy, 1).await.unwrap();
        }
        store.block(&other, Duration::from_secs(60)).await.unwrap();
        assert!(store.release(&other).await.unwrap());
        assert!(!store.release(&other).await.unwrap());
        assert_eq!(store.release_ended(100).await.unwrap(), 0);
        clock.advance(Duration::from_secs(600));
        assert_eq!(store.release_ended(100).await.unwrap(), 1);
        assert_eq!(store.release_ended(100).await.unwrap(), 0);
    });
    let lines: Vec<&str> = log.lines().collect();
    let blocked: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("ratelimit.blocked"))
        .collect();
    let ended: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("ratelimit.block_ended"))
        .collect();
    assert_eq!(
        blocked.len(),
        2,
        "one penalty (not one per blocked request), one explicit: {log}"
    );
    assert!(blocked[0].contains("reason=\"penalty\"") && blocked[0].contains("block_ms=600000"));
    assert!(blocked[0].contains(&flooder.fingerprint()));
    assert!(
        blocked[1].contains("reason=\"explicit\"") && blocked[1].contains(&other.fingerprint())
    );
    assert_eq!(ended.len(), 2, "{log}");
    assert!(ended[0].contains("reason=\"released\"") && ended[0].contains(&other.fingerprint()));
    assert!(ended[1].contains("reason=\"expired\"") && ended[1].contains(&flooder.fingerprint()));
    assert!(
        !log.contains("4155550123") && !log.contains("4155550124"),
        "a key was logged"
    );
}

#[test]
fn memory_listing_is_by_encoded_key_and_bounded() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_700_000_000)));
    let store = MemoryStore::with_clock(clock.clone());
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let mut keys: Vec<Key> = (0..1_500u64).map(Key::from).collect();
    keys.push(Key::from(
        "a long key of more than thirty-one bytes, hashed",
    ));
    for (i, k) in keys.iter().enumerate() {
        store
            .block_at(k, Duration::from_secs(10 + i as u64), now)
            .unwrap();
    }
    let first = store.blocks_at(None, usize::MAX, now);
    assert_eq!(first.entries.len(), MAX_BLOCK_PAGE);
    let mut all = first.entries.clone();
    let second = store.blocks_at(first.next.as_ref(), usize::MAX, now);
    assert!(second.next.is_none());
    all.extend(second.entries);
    assert_eq!(all.len(), keys.len());
    assert!(
        all.windows(2)
            .all(|w| w[0].key.encoded() < w[1].key.encoded())
    );
    let k0 = Key::from(0u64);
    let e0 = all.iter().find(|e| e.key == k0).unwrap();
    assert_eq!(e0.remaining, Duration::from_secs(10));
    // A cursor past every key lists nothing.
    assert!(
        store
            .blocks_at(Some(&BlockCursor::from_bytes(vec![0xFF; 33])), 10, now)
            .entries
            .is_empty()
    );
    // 10 s later, key 0's block ended.
    let later = Timestamp::from_unix_nanos(now.as_unix_nanos() + 10_000_000_000);
    assert_eq!(store.take_ended_at(10, later), vec![k0]);
    assert!(store.take_ended_at(10, later).is_empty());
}

/// A page that holds exactly the remaining blocks has no next cursor; one block more and it
/// has one, which lists that block.
#[test]
fn a_full_last_page_has_no_next_cursor() {
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let store = MemoryStore::with_clock(Arc::new(ManualClock::new(now)));
    for i in 0..3u64 {
        store
            .block_at(&Key::from(i), Duration::from_secs(60), now)
            .unwrap();
    }
    let exact = store.blocks_at(None, 3, now);
    assert_eq!((exact.entries.len(), exact.next.is_none()), (3, true));
    let first = store.blocks_at(None, 2, now);
    assert_eq!(first.entries.len(), 2);
    let rest = store.blocks_at(first.next.as_ref(), 2, now);
    assert_eq!((rest.entries.len(), rest.next.is_none()), (1, true));
    assert_eq!(rest.entries[0].key, Key::from(2u64));
}

/// A block ends at its end instant: releasing it then reports it was no longer blocked; one
/// nanosecond earlier it was.
#[test]
fn releasing_at_the_end_of_a_block() {
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let store = MemoryStore::with_clock(Arc::new(ManualClock::new(now)));
    let end = Timestamp::from_unix_nanos(now.as_unix_nanos() + 60_000_000_000);
    let before_end = Timestamp::from_unix_nanos(end.as_unix_nanos() - 1);
    let (a, b) = (Key::from("a"), Key::from("b"));
    for k in [&a, &b] {
        store.block_at(k, Duration::from_secs(60), now).unwrap();
    }
    assert!(store.release_at(&a, before_end));
    assert!(!store.release_at(&b, end));
}

/// Many blocks, short keys and long ones (two layouts in the store's table): blocking a key
/// again extends its one block, and releasing keys one by one removes exactly those.
#[test]
fn many_blocks_released_one_by_one() {
    // Enough keys per shard that hash-table probes meet other entries: a removal that
    // matched on less than the whole (tag, key) would take a wrong one.
    const SHORT: u64 = 4_000;
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let store = MemoryStore::with_clock(Arc::new(ManualClock::new(now)));
    let keys: Vec<Key> = (0..SHORT)
        .map(Key::from)
        .chain((0..600).map(|i| Key::from(format!("a long key, number {i:04}").as_str())))
        .collect();
    for k in &keys {
        store.block_at(k, Duration::from_secs(60), now).unwrap();
    }
    for k in keys.iter().skip(SHORT as usize) {
        store.block_at(k, Duration::from_secs(120), now).unwrap();
    }
    let listed = |store: &MemoryStore<Arc<ManualClock>>| {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = store.blocks_at(cursor.as_ref(), usize::MAX, now);
            all.extend(page.entries);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return all,
            }
        }
    };
    let all = listed(&store);
    assert_eq!(all.len(), keys.len(), "one block per key");
    let long = Key::from("a long key, number 0007");
    let e = all.iter().find(|e| e.key == long).unwrap();
    assert_eq!(e.remaining, Duration::from_secs(120), "extended");
    for k in keys.iter().step_by(2) {
        assert!(store.release_at(k, now), "{k:?}");
    }
    let left: std::collections::HashSet<Key> = listed(&store).into_iter().map(|e| e.key).collect();
    let expected: std::collections::HashSet<Key> =
        keys.iter().skip(1).step_by(2).copied().collect();
    assert_eq!(left, expected);
}

/// Blocks `k` for a minute and `brief` for a nanosecond through `store`: the listing holds
/// `k` only, `brief` is handed over as ended, and unblocking `k` empties the listing.
async fn lists_takes_and_unblocks(store: &impl PenaltyBox) {
    store
        .block(&Key::from("k"), Duration::from_secs(60))
        .await
        .unwrap();
    store
        .block(&Key::from("brief"), Duration::from_nanos(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2)).await;
    let page = store.blocks(None, 10).await.unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].key, Key::from("k"));
    assert_eq!(
        store.take_ended(10).await.unwrap(),
        vec![Key::from("brief")]
    );
    store.unblock(&Key::from("k")).await.unwrap();
    assert!(store.blocks(None, 10).await.unwrap().entries.is_empty());
}

/// The penalty box through an `Arc` (as services share it) lists what the store lists; a
/// cursor shows its length, never its bytes (they are a key's).
#[tokio::test]
async fn a_shared_penalty_box_lists_its_blocks() {
    lists_takes_and_unblocks(&Arc::new(MemoryStore::new())).await;
    assert_eq!(
        format!("{:?}", BlockCursor::from_bytes(vec![1, 2, 3])),
        "BlockCursor(3 bytes)"
    );
}

/// `Quarantine` (the logging wrapper) lists and hands over ended blocks as its store does.
#[tokio::test]
async fn quarantine_lists_and_takes_ended_blocks_of_its_store() {
    lists_takes_and_unblocks(&Quarantine::new(MemoryStore::new())).await;
}
