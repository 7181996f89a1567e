//! `SequenceWindow` through its public API: what it reports (size, highest, lowest) as it
//! slides, in the terms of RFC 4303 §3.4.3 (the window ends at the highest number accepted).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_replay::{ReplayError, SequenceWindow};

#[test]
fn the_window_reports_its_size_and_edges() {
    let mut w = SequenceWindow::new(128).unwrap();
    assert_eq!(w.size(), 128);
    assert_eq!(w.highest(), None);
    assert_eq!(
        w.lowest(),
        0,
        "nothing accepted yet: everything is accepted"
    );
    w.accept(5).unwrap();
    assert_eq!(w.highest(), Some(5));
    assert_eq!(w.lowest(), 0, "the window does not reach below zero");
    w.accept(300).unwrap();
    assert_eq!(w.highest(), Some(300));
    assert_eq!(w.lowest(), 173);
    // A late number inside the window does not move it.
    w.accept(200).unwrap();
    assert_eq!(w.highest(), Some(300));
    assert_eq!(w.lowest(), 173);
    assert!(matches!(
        w.accept(172),
        Err(ReplayError::SequenceTooOld {
            seq: 172,
            lowest: 173
        })
    ));
    assert_eq!(SequenceWindow::new(1 << 20).unwrap().size(), 1 << 20);
}

/// Every number of a window is remembered on its own: after accepting every other number,
/// exactly the others are still accepted, in any order, across word boundaries.
#[test]
fn each_number_of_the_window_is_its_own_bit() {
    let mut w = SequenceWindow::new(256).unwrap();
    let top = 1_000;
    w.accept(top).unwrap();
    for seq in (top - 255..top).step_by(2) {
        w.accept(seq).unwrap();
    }
    for seq in (top - 255..top).rev() {
        let odd_offset = (top - seq) % 2 == 1;
        if odd_offset {
            assert!(
                matches!(w.check(seq), Err(ReplayError::SequenceReplayed { .. })),
                "{seq} was accepted"
            );
        } else {
            w.accept(seq).unwrap();
        }
    }
    assert_eq!(w.highest(), Some(top));
}
