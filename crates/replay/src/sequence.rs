//! `SequenceWindow`: the sliding anti-replay window for increasing counters.

use crate::ReplayError;

/// A sliding anti-replay window over increasing sequence numbers, as IPsec uses it
/// (RFC 4303 §3.4.3), kept as the ring of 64-bit blocks of RFC 6479.
///
/// The window covers the `size` numbers ending at the highest number accepted so far. A
/// number is accepted once if it is above the window (the window slides up to it) or inside
/// it and not yet seen; it is refused if it is below the window
/// ([`ReplayError::SequenceTooOld`]) or already seen ([`ReplayError::SequenceReplayed`]).
/// Memory is `size / 64 + 1` words; every operation is O(1) except a slide, which clears at
/// most that many words.
///
/// Use [`SequenceWindow::check`] before authenticating a message (cheap rejection) and
/// [`SequenceWindow::update`] after, or [`SequenceWindow::accept`] for both at once.
///
/// ```
/// use palisade_replay::{ReplayError, SequenceWindow};
///
/// let mut w = SequenceWindow::new(64)?;
/// w.accept(10)?;
/// w.accept(12)?;
/// w.accept(11)?; // late but inside the window
/// assert!(matches!(w.accept(11), Err(ReplayError::SequenceReplayed { seq: 11 })));
/// w.accept(100)?;
/// assert!(matches!(w.accept(36), Err(ReplayError::SequenceTooOld { seq: 36, lowest: 37 })));
/// # Ok::<(), ReplayError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceWindow {
    /// Ring of `size / 64 + 1` bitmap words; bit `n % 64` of word `(n / 64) % len` is `n`.
    blocks: Vec<u64>,
    /// Window size in numbers (a positive multiple of 64).
    size: u64,
    /// Highest number accepted so far, once one has been.
    top: Option<u64>,
}

impl SequenceWindow {
    /// A window of `size` numbers: a positive multiple of 64, at most 2^20 (RFC 4303
    /// requires at least 32 and recommends 64; RFC 6479 uses larger ones for high rates).
    ///
    /// # Errors
    /// [`ReplayError::InvalidConfig`] for any other size.
    pub fn new(size: u64) -> Result<Self, ReplayError> {
        if size == 0 || !size.is_multiple_of(64) || size > 1 << 20 {
            return Err(ReplayError::InvalidConfig {
                reason: "window size must be a positive multiple of 64, at most 2^20",
            });
        }
        let words = usize::try_from(size / 64 + 1).map_err(|_| ReplayError::InvalidConfig {
            reason: "window size too large for this platform",
        })?;
        Ok(Self {
            blocks: vec![0; words],
            size,
            top: None,
        })
    }

    /// The window size, in numbers.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The highest number accepted so far.
    pub fn highest(&self) -> Option<u64> {
        self.top
    }

    /// The lowest number the window still accepts (0 before anything is accepted).
    pub fn lowest(&self) -> u64 {
        self.top.map_or(0, |top| top.saturating_sub(self.size - 1))
    }

    fn slot(&self, seq: u64) -> (usize, u64) {
        let words = self.blocks.len() as u64;
        // `words` fits in usize (checked in `new`), so the remainder does too.
        let index = usize::try_from((seq / 64) % words).unwrap_or(0);
        (index, 1u64 << (seq % 64))
    }

    /// Whether `seq` would be accepted, without recording it.
    ///
    /// # Errors
    /// [`ReplayError::SequenceTooOld`] or [`ReplayError::SequenceReplayed`].
    pub fn check(&self, seq: u64) -> Result<(), ReplayError> {
        let Some(top) = self.top else { return Ok(()) };
        if seq > top {
            return Ok(());
        }
        if top - seq >= self.size {
            return Err(ReplayError::SequenceTooOld {
                seq,
                lowest: self.lowest(),
            });
        }
        let (index, bit) = self.slot(seq);
        match self.blocks.get(index) {
            Some(word) if word & bit != 0 => Err(ReplayError::SequenceReplayed { seq }),
            _ => Ok(()),
        }
    }

    /// Records `seq`, sliding the window up when it is the new highest. Call only after
    /// [`SequenceWindow::check`] accepted it (and the message authenticated).
    ///
    /// # Errors
    /// As [`SequenceWindow::check`]: a number that `check` refuses is not recorded.
    pub fn update(&mut self, seq: u64) -> Result<(), ReplayError> {
        self.check(seq)?;
        match self.top {
            Some(top) if seq <= top => {}
            Some(top) => {
                // Clear the words between the old top's word and the new one (at most the
                // whole ring), so bits from a previous lap are not mistaken for this one's.
                let words = self.blocks.len() as u64;
                let steps = (seq / 64 - top / 64).min(words);
                for k in 1..=steps {
                    let (index, _) = self.slot((top / 64 + k).saturating_mul(64));
                    if let Some(word) = self.blocks.get_mut(index) {
                        *word = 0;
                    }
                }
                self.top = Some(seq);
            }
            None => self.top = Some(seq),
        }
        let (index, bit) = self.slot(seq);
        if let Some(word) = self.blocks.get_mut(index) {
            *word |= bit;
        }
        Ok(())
    }

    /// [`SequenceWindow::check`] then [`SequenceWindow::update`].
    ///
    /// # Errors
    /// As [`SequenceWindow::check`].
    pub fn accept(&mut self, seq: u64) -> Result<(), ReplayError> {
        self.update(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked() {
        for bad in [0, 32, 65, (1 << 20) + 64] {
            assert!(SequenceWindow::new(bad).is_err(), "{bad}");
        }
        assert!(SequenceWindow::new(64).is_ok());
        assert!(SequenceWindow::new(1 << 20).is_ok());
    }

    #[test]
    fn window_edges() {
        let mut w = SequenceWindow::new(128).unwrap();
        w.accept(1000).unwrap();
        assert_eq!(w.lowest(), 873);
        assert!(w.check(873).is_ok());
        assert!(matches!(
            w.check(872),
            Err(ReplayError::SequenceTooOld {
                seq: 872,
                lowest: 873
            })
        ));
        w.accept(873).unwrap();
        assert!(w.accept(873).is_err());
        // A slide of exactly one ring lap forgets everything below the window.
        w.accept(1000 + 192).unwrap();
        assert!(w.check(1000).is_err());
        assert!(w.check(1000 + 191).is_ok());
    }

    #[test]
    fn extremes_do_not_overflow() {
        let mut w = SequenceWindow::new(64).unwrap();
        w.accept(u64::MAX).unwrap();
        assert!(w.accept(u64::MAX).is_err());
        assert!(w.accept(u64::MAX - 63).is_ok());
        assert!(w.accept(u64::MAX - 64).is_err());
        let mut w = SequenceWindow::new(64).unwrap();
        w.accept(0).unwrap();
        assert!(w.accept(0).is_err());
    }
}
