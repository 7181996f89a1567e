//! SipHash-1-3 (the algorithm of `std`'s `RandomState`) of messages of at most 32 bytes held in
//! four little-endian words, inlined: the memory store's hash of keys, where the generic
//! `Hasher` path's call and tail handling cost as much as the rounds.

/// A SipHash key: 128 random bits, drawn per table.
#[derive(Clone, Copy)]
pub(crate) struct SipKey {
    k0: u64,
    k1: u64,
}

impl SipKey {
    /// A key drawn from `std`'s per-process random source (the keys of `RandomState`).
    pub(crate) fn random() -> Self {
        use std::hash::BuildHasher;
        let s = std::hash::RandomState::new();
        Self {
            k0: s.hash_one(0u64),
            k1: s.hash_one(1u64),
        }
    }

    #[cfg(test)]
    pub(crate) const fn new(k0: u64, k1: u64) -> Self {
        Self { k0, k1 }
    }

    /// SipHash-1-3 of the first `len` (at most 32) bytes of `words` read little-endian;
    /// the bytes of `words` past `len` must be zero.
    #[inline(always)]
    pub(crate) fn hash(&self, words: &[u64; 4], len: usize) -> u64 {
        self.hash_rounds::<1, 3>(words, len)
    }

    #[inline(always)]
    fn hash_rounds<const C: usize, const D: usize>(&self, words: &[u64; 4], len: usize) -> u64 {
        let mut v = [
            self.k0 ^ 0x736f_6d65_7073_6575,
            self.k1 ^ 0x646f_7261_6e64_6f6d,
            self.k0 ^ 0x6c79_6765_6e65_7261,
            self.k1 ^ 0x7465_6462_7974_6573,
        ];
        let compress = |v: &mut [u64; 4], m: u64| {
            v[3] ^= m;
            for _ in 0..C {
                round(v);
            }
            v[0] ^= m;
        };
        let full = len / 8;
        for &m in words.iter().take(full) {
            compress(&mut v, m);
        }
        // The final block: the tail (the next word: zero past `len`, so nothing to mask) and
        // the length in the top byte.
        let tail = words.get(full).copied().unwrap_or(0);
        compress(&mut v, tail | ((len as u64) << 56));
        v[2] ^= 0xff;
        for _ in 0..D {
            round(&mut v);
        }
        v[0] ^ v[1] ^ v[2] ^ v[3]
    }
}

#[inline(always)]
fn round([v0, v1, v2, v3]: &mut [u64; 4]) {
    *v0 = v0.wrapping_add(*v1);
    *v1 = v1.rotate_left(13) ^ *v0;
    *v0 = v0.rotate_left(32);
    *v2 = v2.wrapping_add(*v3);
    *v3 = v3.rotate_left(16) ^ *v2;
    *v0 = v0.wrapping_add(*v3);
    *v3 = v3.rotate_left(21) ^ *v0;
    *v2 = v2.wrapping_add(*v1);
    *v1 = v1.rotate_left(17) ^ *v2;
    *v2 = v2.rotate_left(32);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, deprecated)]
mod tests {
    use super::*;
    use std::hash::Hasher;

    fn words(bytes: &[u8]) -> [u64; 4] {
        let mut buf = [0u8; 32];
        buf[..bytes.len()].copy_from_slice(bytes);
        std::array::from_fn(|i| u64::from_le_bytes(buf[i * 8..i * 8 + 8].try_into().unwrap()))
    }

    /// The same rounds with 2 and 4 of them are SipHash-2-4, which `std` still exposes.
    #[test]
    fn matches_siphash_2_4_for_every_length() {
        let (k0, k1) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let key = SipKey::new(k0, k1);
        let msg: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37) ^ 0xA5).collect();
        for len in 0..=32 {
            let mut std = std::hash::SipHasher::new_with_keys(k0, k1);
            std.write(&msg[..len]);
            assert_eq!(
                key.hash_rounds::<2, 4>(&words(&msg[..len]), len),
                std.finish(),
                "len {len}"
            );
        }
    }

    /// A key is hashed as its `encoded` bytes, whatever its form.
    #[test]
    fn keys_hash_as_their_encoding() {
        let (k0, k1) = (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
        let sip = SipKey::new(k0, k1);
        let long = "x".repeat(100);
        let keys = [
            crate::Key::from(42u64),
            crate::Key::from(""),
            crate::Key::from("203.0.113.7|/webhook/vapi"),
            crate::Key::from("exactly-15-byte"),
            crate::Key::from("exactly-16-bytes"),
            crate::Key::from(long.as_str()),
            crate::KeyBuilder::new("webhook")
                .str("/webhook/vapi")
                .build(),
        ];
        for key in keys {
            let mut std = std::hash::SipHasher::new_with_keys(k0, k1);
            std.write(key.encoded());
            assert_eq!(
                sip.hash_rounds::<2, 4>(&key.words(), key.encoded_len()),
                std.finish()
            );
        }
    }

    /// SipHash-1-3 itself against the reference implementation's (the `siphasher` crate's
    /// `SipHasher13`), over every length the table hashes and random keys and bytes.
    #[test]
    fn matches_reference_siphash_1_3_for_every_length() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(
                &(
                    any::<u64>(),
                    any::<u64>(),
                    proptest::collection::vec(any::<u8>(), 0..=32),
                ),
                |(k0, k1, msg)| {
                    let mut reference = siphasher::sip::SipHasher13::new_with_keys(k0, k1);
                    reference.write(&msg);
                    let ours = SipKey::new(k0, k1).hash(&words(&msg), msg.len());
                    prop_assert_eq!(ours, reference.finish(), "len {}", msg.len());
                    Ok(())
                },
            )
            .unwrap();
        // And each length with the reference key and message of the SipHash paper.
        let (k0, k1) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let msg: Vec<u8> = (0u8..32).collect();
        for len in 0..=32 {
            let mut reference = siphasher::sip::SipHasher13::new_with_keys(k0, k1);
            reference.write(&msg[..len]);
            assert_eq!(
                SipKey::new(k0, k1).hash(&words(&msg[..len]), len),
                reference.finish(),
                "len {len}"
            );
        }
    }

    /// The reference vector of the SipHash paper (SipHash-2-4, 15-byte message 00..0e).
    #[test]
    fn paper_vector() {
        let key = SipKey::new(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let msg: Vec<u8> = (0u8..15).collect();
        assert_eq!(
            key.hash_rounds::<2, 4>(&words(&msg), 15),
            0xa129_ca61_49be_45e5
        );
    }
}
