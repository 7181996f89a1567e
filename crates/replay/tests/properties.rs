//! Properties: a `SequenceWindow` never accepts a number twice nor one below its window, and a
//! `ReplayGuard` accepts a (key, timestamp) at most once under any interleaving.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use palisade_replay::{
    MemoryNonceStore, Namespace, ReplayError, ReplayGuard, SequenceWindow, Tolerance,
};
use palisade_webhook::{Clock, ManualClock, Timestamp};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Against a reference model: a number is accepted iff it is new and within `size` of the
    /// highest accepted so far (or above it).
    #[test]
    fn sequence_window_matches_the_model(
        size_words in 1u64..4,
        base in prop_oneof![Just(0u64), Just(u64::MAX - 2_000), 0u64..1_000_000],
        offsets in proptest::collection::vec(0u64..1_500, 1..400),
    ) {
        let size = size_words * 64;
        let mut w = SequenceWindow::new(size).unwrap();
        let mut seen = HashSet::new();
        let mut top: Option<u64> = None;
        for off in offsets {
            let seq = base.saturating_add(off);
            let model_ok = !seen.contains(&seq)
                && top.is_none_or(|t| seq > t || t - seq < size);
            let got = w.accept(seq);
            prop_assert_eq!(got.is_ok(), model_ok, "seq {} top {:?}", seq, top);
            if got.is_ok() {
                prop_assert!(seen.insert(seq), "accepted {} twice", seq);
                top = Some(top.map_or(seq, |t| t.max(seq)));
            } else {
                match got {
                    Err(ReplayError::SequenceReplayed { .. } | ReplayError::SequenceTooOld { .. }) => {}
                    other => prop_assert!(false, "unexpected {:?}", other),
                }
            }
            // Never accepts anything below the window.
            if let Some(t) = top {
                prop_assert_eq!(w.lowest(), t.saturating_sub(size - 1));
            }
        }
    }

    /// Interleaved checks of a few keys and timestamps while the clock moves: a (key,
    /// timestamp) pair is accepted at most once, and only while the timestamp is in the window.
    #[test]
    fn guard_accepts_each_pair_at_most_once(
        ops in proptest::collection::vec((0u8..6, -400i64..400, 0i64..120), 1..300),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(1_000_000)));
        let store = MemoryNonceStore::builder().clock(clock.clone()).build().unwrap();
        let tolerance = Tolerance { past_secs: 300, future_secs: 60 };
        let guard = ReplayGuard::new(store).with_clock(clock.clone()).with_tolerance(tolerance);
        let ns = Namespace::custom("prop").unwrap();
        let mut accepted = HashSet::new();
        rt.block_on(async {
            for (key, ts_offset, advance) in ops {
                clock.advance(Duration::from_secs(advance.unsigned_abs()));
                let now = 1_000_000 + ts_offset; // timestamps near the start
                let id = [key];
                match guard.check(&ns, &id, Some(now)).await {
                    Ok(()) => {
                        let fresh = accepted.insert((key, now));
                        assert!(fresh, "({key}, {now}) accepted twice");
                        let age = clock.now_unix_secs() - now;
                        assert!((-60..=300).contains(&age), "accepted outside the window: age {age}");
                    }
                    Err(ReplayError::Replayed | ReplayError::TimestampOutsideTolerance { .. }) => {}
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        });
    }
}
