//! Keys: what a limit counts against (an IP, an IP on an endpoint, a phone number, a client id),
//! bounded to 32 bytes.

use std::fmt;
use std::net::IpAddr;

use sha2::{Digest, Sha256};

/// Bytes stored inline; longer keys are hashed.
pub const INLINE_KEY_LEN: usize = 31;
/// Bytes kept of the SHA-256 digest of a long key.
pub const HASHED_KEY_LEN: usize = 16;

const KIND_RAW: u8 = 0x00;
const KIND_BUILT: u8 = 0x40;
const KIND_HASHED_RAW: u8 = 0x80;
const KIND_HASHED_BUILT: u8 = 0xC0;
const LEN_MASK: u8 = 0x3F;

/// A rate-limit key: at most 32 bytes, `Copy`, hashed and compared as bytes.
///
/// - Up to [`INLINE_KEY_LEN`] (31) bytes are kept as they are.
/// - Longer keys are replaced by the first [`HASHED_KEY_LEN`] (16) bytes of their SHA-256,
///   so memory per key is fixed whatever a client sends (a 10 kB header cannot become a 10 kB
///   key), and two distinct long keys collide only with probability about 2⁻⁶⁴ per pair of
///   keys among 2³² (collision resistance of SHA-256 truncated to 128 bits).
/// - A key from raw bytes ([`Key::from_bytes`], `From<&str>`, `From<u64>`) and a key from a
///   [`KeyBuilder`] live in separate domains: no raw string can be crafted to equal a built
///   key, even one that writes the builder's encoding.
///
/// `Debug` shows the key's kind and length only: keys hold IP addresses and phone numbers.
///
/// ```
/// use palisade_ratelimit::{Key, KeyBuilder};
/// use std::net::{IpAddr, Ipv4Addr};
///
/// let ip = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
/// let k = KeyBuilder::new("webhook").ip(ip).str("/webhook/vapi").build();
/// assert_eq!(k, KeyBuilder::new("webhook").ip(ip).str("/webhook/vapi").build());
/// assert_ne!(k, KeyBuilder::new("webhook").ip(ip).str("/webhook/stripe").build());
/// // Short raw keys are kept as bytes; long ones become 16-byte digests.
/// assert_eq!(Key::from("client-42").as_bytes(), b"client-42");
/// assert_eq!(Key::from("x".repeat(100).as_str()).as_bytes().len(), 16);
/// ```
#[derive(Clone, Copy, PartialOrd, Ord)]
pub struct Key {
    /// `buf[0]`: kind (2 high bits) and length (6 low bits); `buf[1..=len]`: the bytes.
    buf: [u8; 32],
}

impl Key {
    /// A key from raw bytes (kept when at most 31 bytes long, else hashed).
    #[inline]
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self::with_kind(bytes, KIND_RAW, KIND_HASHED_RAW)
    }

    #[inline]
    fn with_kind(bytes: &[u8], inline: u8, hashed: u8) -> Self {
        let mut buf = [0u8; 32];
        if let (Some(dst), Ok(len)) = (buf.get_mut(1..=bytes.len()), u8::try_from(bytes.len()))
            && bytes.len() <= INLINE_KEY_LEN
        {
            dst.copy_from_slice(bytes);
            buf[0] = inline | len;
            return Self { buf };
        }
        Self::digest(bytes, hashed)
    }

    /// A long key: the first [`HASHED_KEY_LEN`] bytes of a domain-separated SHA-256.
    #[cold]
    #[inline(never)]
    fn digest(bytes: &[u8], hashed: u8) -> Self {
        let mut buf = [0u8; 32];
        let mut h = Sha256::new();
        h.update(b"palisade-ratelimit key v1\0");
        h.update([hashed]);
        h.update(bytes);
        let digest = h.finalize();
        for (d, s) in buf
            .iter_mut()
            .skip(1)
            .zip(digest.iter().take(HASHED_KEY_LEN))
        {
            *d = *s;
        }
        buf[0] = hashed | HASHED_KEY_LEN as u8;
        Self { buf }
    }

    #[inline]
    fn len(&self) -> usize {
        usize::from(self.buf[0] & LEN_MASK)
    }

    /// The key's bytes: the raw or built bytes, or the 16-byte digest of a long key.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(1..=self.len()).unwrap_or_default()
    }

    /// The key in a self-describing form, 1 to 32 bytes: a tag byte (domain and length) then
    /// [`as_bytes`](Self::as_bytes). Distinct keys have distinct encodings: remote stores use
    /// it to name their records.
    #[inline]
    pub fn encoded(&self) -> &[u8] {
        self.buf.get(..=self.len()).unwrap_or_default()
    }

    /// `true` when the key was too long and is a digest.
    pub const fn is_hashed(&self) -> bool {
        self.buf[0] & KIND_HASHED_RAW != 0
    }

    /// Lower-case hex of [`encoded`](Self::encoded), for store record names.
    pub fn to_hex(&self) -> String {
        hex::encode(self.encoded())
    }

    /// The key whose [`encoded`](Self::encoded) form is `bytes`, as a remote store reads it
    /// back from its records (a Postgres `bytea`, the hex of a Redis key name); `None` when
    /// `bytes` is not such an encoding (empty, a length byte that disagrees with the bytes, a
    /// digest of the wrong length).
    pub fn from_encoded(bytes: &[u8]) -> Option<Self> {
        let (&tag, rest) = bytes.split_first()?;
        let len = usize::from(tag & LEN_MASK);
        if rest.len() != len || len > INLINE_KEY_LEN {
            return None;
        }
        if tag & KIND_HASHED_RAW != 0 && len != HASHED_KEY_LEN {
            return None;
        }
        let mut buf = [0u8; 32];
        buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Self { buf })
    }

    /// A pseudonymous identifier of the key for logs and events: 16 lowercase hex digits (64
    /// bits) of a domain-separated SHA-256 of [`encoded`](Self::encoded). The same on every
    /// server, so an event can be matched with a listing of blocks
    /// ([`PenaltyBox::blocks`](crate::PenaltyBox::blocks)), and not the key itself: events
    /// never carry keys, which hold addresses and phone numbers.
    ///
    /// It is a digest, not a secret-keyed MAC: a key drawn from a small space (an IPv4
    /// address, a phone number) can be recovered from it by trying every candidate. Treat it
    /// as personal data where keys are, and keep it out of public places.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"palisade-ratelimit key fingerprint v1\0");
        h.update(self.encoded());
        hex::encode(h.finalize().get(..8).unwrap_or_default())
    }
}

/// The longest key whose whole buffer past byte 16 is zero: held by [`Key::head`] alone.
pub(crate) const SHORT_KEY_LEN: usize = 15;

impl Key {
    /// `true` when the key's bytes are at most [`SHORT_KEY_LEN`] long (`u64` and IPv4 keys, short
    /// strings): then [`head`](Self::head) determines the key.
    #[inline]
    pub(crate) const fn is_short(&self) -> bool {
        (self.buf[0] & LEN_MASK) as usize <= SHORT_KEY_LEN
    }

    /// Bytes of [`encoded`](Self::encoded): 1 to 32.
    #[inline]
    pub(crate) fn encoded_len(&self) -> usize {
        self.len() + 1
    }

    /// The first 16 bytes of the buffer (the tag byte and up to 15 key bytes) as two
    /// little-endian words. Two short keys are equal exactly when their heads are; a long key's head never equals a
    /// short key's (their tag bytes differ in the length).
    #[inline]
    pub(crate) fn head(&self) -> [u64; 2] {
        [
            word(self.buf.get(..8).unwrap_or_default()),
            word(self.buf.get(8..16).unwrap_or_default()),
        ]
    }

    /// The whole buffer (the tag byte, the key's bytes, zeros) as four little-endian words.
    #[inline]
    pub(crate) fn words(&self) -> [u64; 4] {
        [
            word(self.buf.get(..8).unwrap_or_default()),
            word(self.buf.get(8..16).unwrap_or_default()),
            word(self.buf.get(16..24).unwrap_or_default()),
            word(self.buf.get(24..).unwrap_or_default()),
        ]
    }

    /// The short key whose [`head`](Self::head) is `head`.
    pub(crate) fn from_head(head: [u64; 2]) -> Self {
        let mut buf = [0u8; 32];
        for (d, s) in buf
            .iter_mut()
            .zip(head.iter().flat_map(|w| w.to_le_bytes()))
        {
            *d = s;
        }
        Self { buf }
    }
}

#[inline]
fn word(bytes: &[u8]) -> u64 {
    bytes
        .first_chunk::<8>()
        .map_or(0, |b| u64::from_le_bytes(*b))
}

impl std::hash::Hash for Key {
    /// Hashes [`encoded`](Self::encoded) in one write: SipHash's final block carries the
    /// tail, so an 8-byte key costs the same compressions as a bare `u64`.
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(self.encoded());
    }
}

impl PartialEq for Key {
    /// Two 16-byte comparisons (the buffers are zero past the key), not a `memcmp` call.
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        halves(&self.buf) == halves(&other.buf)
    }
}

impl Eq for Key {}

/// The buffer as two `u128`s.
#[inline]
fn halves(buf: &[u8; 32]) -> (u128, u128) {
    (
        buf.first_chunk::<16>()
            .map_or(0, |h| u128::from_ne_bytes(*h)),
        buf.last_chunk::<16>()
            .map_or(0, |h| u128::from_ne_bytes(*h)),
    )
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.buf[0] & !LEN_MASK {
            KIND_RAW => "raw",
            KIND_BUILT => "built",
            _ => "hashed",
        };
        write!(f, "Key({kind}, {} bytes)", self.len())
    }
}

impl From<&str> for Key {
    #[inline]
    fn from(s: &str) -> Self {
        Self::from_bytes(s.as_bytes())
    }
}

impl From<&[u8]> for Key {
    fn from(b: &[u8]) -> Self {
        Self::from_bytes(b)
    }
}

impl From<u64> for Key {
    /// An 8-byte big-endian key (client ids, user ids).
    #[inline]
    fn from(n: u64) -> Self {
        // The same buffer as `from_bytes(&n.to_be_bytes())`, written as whole words: the store
        // then reads it back as words without a store-forwarding stall.
        let be = u64::from_le_bytes(n.to_be_bytes());
        let w0 = (be << 8) | u64::from(KIND_RAW | 8);
        let w1 = be >> 56;
        let mut buf = [0u8; 32];
        if let Some(head) = buf.first_chunk_mut::<16>() {
            *head = (u128::from(w0) | (u128::from(w1) << 64)).to_le_bytes();
        }
        Self { buf }
    }
}

impl From<IpAddr> for Key {
    /// The address's 4 or 16 bytes. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) become the
    /// IPv4 address, so one client is one key whichever socket family accepted it.
    fn from(ip: IpAddr) -> Self {
        match canonical_ip(ip) {
            IpAddr::V4(v4) => Self::from_bytes(&v4.octets()),
            IpAddr::V6(v6) => Self::from_bytes(&v6.octets()),
        }
    }
}

fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Builds a composite [`Key`] from typed parts, without ambiguity.
///
/// Every part is written as a type tag, its length and its bytes, after a namespace: so
/// `("a|b", "c")` and `("a", "b|c")` differ, an IP never equals a string of the same bytes, and
/// two features with the same parts in different namespaces never share a counter. The result
/// is hashed to 16 bytes when longer than 31 bytes (see [`Key`]).
///
/// ```
/// use palisade_ratelimit::KeyBuilder;
///
/// // One per phone number for OTP sends, one per API client for the API.
/// let otp = KeyBuilder::new("otp-send").str("+14155550123").build();
/// let api = KeyBuilder::new("api").u64(42).build();
/// assert_ne!(KeyBuilder::new("a").str("b|c").build(), KeyBuilder::new("a").str("b").str("c").build());
/// # let _ = (otp, api);
/// ```
#[derive(Clone)]
pub struct KeyBuilder {
    /// The encoding so far, while it fits inline.
    inline: [u8; INLINE_KEY_LEN],
    len: usize,
    /// Once the encoding outgrows the inline buffer: all of it, to be hashed by `build`. Short
    /// keys never allocate.
    long: Option<Vec<u8>>,
}

impl std::fmt::Debug for KeyBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyBuilder").finish_non_exhaustive()
    }
}

const TAG_NAMESPACE: u8 = 0;
const TAG_STR: u8 = 1;
const TAG_BYTES: u8 = 2;
const TAG_U64: u8 = 3;
const TAG_IPV4: u8 = 4;
const TAG_IPV6: u8 = 5;

impl KeyBuilder {
    /// Starts a key in `namespace` (the feature or endpoint family: `login`, `otp-send`, `api`).
    pub fn new(namespace: &str) -> Self {
        let mut b = Self {
            inline: [0; INLINE_KEY_LEN],
            len: 0,
            long: None,
        };
        b.part(TAG_NAMESPACE, namespace.as_bytes());
        b
    }

    fn push(&mut self, bytes: &[u8]) {
        if let Some(long) = &mut self.long {
            long.extend_from_slice(bytes);
            return;
        }
        let end = self.len + bytes.len();
        if let Some(dst) = self.inline.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
            self.len = end;
        } else {
            let mut long = Vec::with_capacity(end.max(64));
            long.extend_from_slice(self.inline.get(..self.len).unwrap_or_default());
            long.extend_from_slice(bytes);
            self.long = Some(long);
        }
    }

    fn part(&mut self, tag: u8, data: &[u8]) {
        // Tag, then the length in LEB128 (one byte below 128), then the bytes.
        let mut header = [0u8; 11];
        header[0] = tag;
        let mut n = 1;
        let mut len = data.len();
        for slot in header.iter_mut().skip(1) {
            let low = (len & 0x7F) as u8;
            len >>= 7;
            n += 1;
            if len == 0 {
                *slot = low;
                break;
            }
            *slot = low | 0x80;
        }
        self.push(header.get(..n).unwrap_or_default());
        self.push(data);
    }

    /// Appends a text part (an endpoint, a phone number in E.164, an account id).
    #[must_use]
    pub fn str(mut self, s: &str) -> Self {
        self.part(TAG_STR, s.as_bytes());
        self
    }

    /// Appends a bytes part (a signature, a token digest).
    #[must_use]
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.part(TAG_BYTES, b);
        self
    }

    /// Appends an integer part (a client or user id).
    #[must_use]
    pub fn u64(mut self, n: u64) -> Self {
        self.part(TAG_U64, &n.to_be_bytes());
        self
    }

    /// Appends an IP address; IPv4-mapped IPv6 addresses are written as IPv4.
    #[must_use]
    pub fn ip(mut self, ip: IpAddr) -> Self {
        match canonical_ip(ip) {
            IpAddr::V4(v4) => self.part(TAG_IPV4, &v4.octets()),
            IpAddr::V6(v6) => self.part(TAG_IPV6, &v6.octets()),
        }
        self
    }

    /// The key.
    pub fn build(&self) -> Key {
        let encoding = match &self.long {
            Some(long) => long.as_slice(),
            None => self.inline.get(..self.len).unwrap_or_default(),
        };
        Key::with_kind(encoding, KIND_BUILT, KIND_HASHED_BUILT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_keys_round_trip_and_malformed_ones_are_refused() {
        let keys = [
            Key::from(7u64),
            Key::from(""),
            Key::from("x".repeat(31).as_str()),
            Key::from("x".repeat(32).as_str()),
            KeyBuilder::new("n").str("+14155550123").build(),
            KeyBuilder::new("n").str(&"y".repeat(40)).build(),
        ];
        for k in keys {
            assert_eq!(Key::from_encoded(k.encoded()), Some(k));
            assert_eq!(k.fingerprint().len(), 16);
        }
        assert_ne!(Key::from(1u64).fingerprint(), Key::from(2u64).fingerprint());
        assert_eq!(Key::from_encoded(&[]), None);
        assert_eq!(Key::from_encoded(&[3, 1, 2]), None);
        assert_eq!(Key::from_encoded(&[0x80 | 3, 1, 2, 3]), None);
        assert_eq!(Key::from_encoded(&[32; 33]), None);
    }

    #[test]
    fn u64_keys_are_their_big_endian_bytes() {
        for n in [
            0,
            1,
            255,
            256,
            0x0102_0304_0506_0708,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(Key::from(n), Key::from_bytes(&n.to_be_bytes()));
            assert_eq!(Key::from(n).as_bytes(), n.to_be_bytes());
        }
    }
}
