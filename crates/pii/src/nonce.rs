//! Where the nonces of envelopes and wrapped keys come from: the operating system's random
//! number generator, always, except in a known-answer test that asked for a fixed sequence
//! (feature `testing`, [`Keyring::with_test_nonces`](crate::Keyring::with_test_nonces)).

use crate::PiiError;
use crate::aead::NONCE_LEN;

/// A keyring's nonce source.
#[derive(Default)]
pub(crate) enum NonceSource {
    /// A fresh random nonce per call from the operating system ([`getrandom`]).
    #[default]
    Os,
    /// Known-answer tests only: the given nonces, each once, in order; then
    /// [`PiiError::Random`].
    #[cfg(feature = "testing")]
    Sequence(std::sync::Mutex<std::collections::VecDeque<[u8; NONCE_LEN]>>),
}

impl NonceSource {
    /// The next nonce.
    ///
    /// # Errors
    ///
    /// [`PiiError::Random`] when the random number generator fails (or a test sequence is
    /// used up).
    pub(crate) fn next(&self) -> Result<[u8; NONCE_LEN], PiiError> {
        match self {
            Self::Os => {
                let mut nonce = [0u8; NONCE_LEN];
                getrandom::fill(&mut nonce).map_err(|_| PiiError::Random)?;
                Ok(nonce)
            }
            #[cfg(feature = "testing")]
            Self::Sequence(queue) => queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop_front()
                .ok_or(PiiError::Random),
        }
    }

    /// `true` for a test sequence.
    pub(crate) const fn is_test_sequence(&self) -> bool {
        match self {
            Self::Os => false,
            #[cfg(feature = "testing")]
            Self::Sequence(_) => true,
        }
    }
}
