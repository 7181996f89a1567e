//! Byte sinks: `Vec<u8>`, and a stack buffer that spills to the heap, so short envelopes and
//! associated data cost no allocation.

use zeroize::Zeroize as _;

/// Something bytes can be appended to.
pub(crate) trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
    /// What was appended so far, mutably.
    fn written_mut(&mut self) -> &mut [u8];
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn written_mut(&mut self) -> &mut [u8] {
        self
    }
}

/// Appends `bytes` prefixed by its length as a big-endian `u64`: the unambiguous encoding
/// used in associated data, HKDF info strings, blind-index inputs and the keyset MAC.
pub(crate) fn put_lp(out: &mut impl Sink, bytes: &[u8]) {
    out.put(&(bytes.len() as u64).to_be_bytes());
    out.put(bytes);
}

/// Up to `N` bytes on the stack, then on the heap. Not zeroized on drop: it holds associated
/// data, or an envelope whose plaintext has been encrypted in place (the one error path
/// that leaves plaintext in it zeroizes it, see `envelope::seal_into`).
pub(crate) struct SmallBuf<const N: usize> {
    inline: [u8; N],
    len: usize,
    heap: Option<Vec<u8>>,
}

impl<const N: usize> SmallBuf<N> {
    /// An empty buffer that will hold about `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            inline: [0; N],
            len: 0,
            heap: (capacity > N).then(|| Vec::with_capacity(capacity)),
        }
    }

    /// What was appended.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match &self.heap {
            Some(h) => h,
            None => self.inline.get(..self.len).unwrap_or_default(),
        }
    }
}

impl<const N: usize> Sink for SmallBuf<N> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.heap {
            h.extend_from_slice(bytes);
            return;
        }
        let end = self.len + bytes.len();
        if let Some(dst) = self.inline.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
            self.len = end;
        } else {
            let mut h = Vec::with_capacity(2 * end);
            h.extend_from_slice(self.inline.get(..self.len).unwrap_or_default());
            h.extend_from_slice(bytes);
            self.inline.zeroize();
            self.heap = Some(h);
        }
    }

    fn written_mut(&mut self) -> &mut [u8] {
        match &mut self.heap {
            Some(h) => h,
            None => self.inline.get_mut(..self.len).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_to_the_heap_keeping_content() {
        let mut b = SmallBuf::<4>::with_capacity(0);
        b.put(b"ab");
        b.put(b"cd");
        assert_eq!(b.as_slice(), b"abcd");
        b.put(b"e");
        assert_eq!(b.as_slice(), b"abcde");
        b.written_mut()[0] = b'X';
        assert_eq!(b.as_slice(), b"Xbcde");
        let big = SmallBuf::<4>::with_capacity(100);
        assert!(big.heap.is_some());
    }
}
