//! The versioned ciphertext format, as bytes and as VARCHAR-safe text.

use std::fmt;

use base64_simd::{Out, URL_SAFE_NO_PAD};
use zeroize::Zeroize as _;

use crate::aead::{NONCE_LEN, TAG_LEN};
use crate::buf::{Sink, SmallBuf, put_lp};
use crate::{Algorithm, Context, KeyId, PiiError};

/// The only envelope version this crate writes and reads.
pub const VERSION: u8 = 1;
/// Prefix of the text form: `pii1.` followed by unpadded base64url.
pub const TEXT_PREFIX: &str = "pii1.";
/// Bytes before the ciphertext: version (1), algorithm id (1), key id (4).
pub const HEADER_LEN: usize = 6;
/// Fixed overhead of the binary form: header (6) + nonce (12) + tag (16) = 34 bytes.
pub const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

/// Associated data up to this many bytes is built on the stack (a context of about 150
/// bytes of identifiers).
const AAD_STACK: usize = 192;

/// A parsed, well-formed envelope: one encrypted value and everything needed to decrypt it
/// except the key and the [`Context`].
///
/// # Byte layout (version 1)
///
/// | offset | length | field |
/// |---|---|---|
/// | 0 | 1 | version, `0x01` |
/// | 1 | 1 | algorithm id: `0x01` AES-256-GCM, `0x02` AES-256-GCM-SIV ([`Algorithm::id`]) |
/// | 2 | 4 | key id, big-endian `u32`, never 0 |
/// | 6 | 12 | nonce, random per message |
/// | 18 | n | ciphertext, as long as the plaintext |
/// | 18 + n | 16 | authentication tag |
///
/// Overhead: 34 bytes ([`OVERHEAD`]).
///
/// # Text form
///
/// `pii1.` followed by the bytes above in unpadded base64url (RFC 4648 §5: `A–Z a–z 0–9 - _`),
/// so it fits a `VARCHAR`/`TEXT` column, a JSON string or a URL without escaping. Its length
/// is `5 + ⌈4·(n + 34)/3⌉` characters: 72 for a 16-byte plaintext, 1 416 for 1 KiB. Parsing
/// is strict: the prefix is case-sensitive, padding, whitespace and non-canonical trailing
/// bits are refused.
///
/// # Associated data
///
/// The AEAD authenticates, besides the ciphertext:
///
/// ```text
/// header (6 bytes) || lp(tenant) || lp(table) || lp(column) || lp(row)
/// ```
///
/// where `lp(x)` is the length of `x` as a big-endian `u64` followed by `x`. The header is
/// included, so the version, algorithm and key id cannot be changed either. (No domain label
/// is needed here: the AEAD key itself is specific to this use, table and column, through its
/// HKDF info `lp("palisade-pii/v1/field-key") || …`.)
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Envelope {
    bytes: Vec<u8>,
}

impl Envelope {
    /// Parses the binary form (copied).
    ///
    /// # Errors
    ///
    /// [`PiiError::MalformedEnvelope`] when shorter than [`OVERHEAD`] or the key id is 0,
    /// [`PiiError::UnsupportedVersion`], [`PiiError::UnknownAlgorithm`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PiiError> {
        Self::from_vec(bytes.to_vec())
    }

    /// Parses the binary form, taking ownership of the buffer.
    ///
    /// # Errors
    ///
    /// As [`Envelope::from_bytes`].
    pub fn from_vec(bytes: Vec<u8>) -> Result<Self, PiiError> {
        parse_parts(&bytes)?;
        Ok(Self { bytes })
    }

    /// Parses the text form `pii1.<base64url>`.
    ///
    /// # Errors
    ///
    /// [`PiiError::MalformedEnvelope`] for a missing prefix or invalid, padded or
    /// non-canonical base64url; then as [`Envelope::from_bytes`].
    pub fn parse(text: &str) -> Result<Self, PiiError> {
        let body = text
            .strip_prefix(TEXT_PREFIX)
            .ok_or(PiiError::malformed("missing `pii1.` prefix"))?;
        let mut bytes = vec![0u8; decoded_len(body)?];
        let n = decode_into(body, &mut bytes)?.len();
        bytes.truncate(n);
        Self::from_vec(bytes)
    }

    /// Wraps bytes written by [`seal_into`].
    pub(crate) fn from_sealed(bytes: Vec<u8>) -> Self {
        Self { bytes }
    }

    /// The envelope version (always [`VERSION`] for a parsed envelope).
    pub fn version(&self) -> u8 {
        self.header()[0]
    }

    /// The algorithm the value was encrypted with.
    pub fn algorithm(&self) -> Algorithm {
        Algorithm::from_id(self.header()[1]).unwrap_or(Algorithm::Aes256Gcm)
    }

    /// The id of the key the value was encrypted under.
    pub fn key_id(&self) -> KeyId {
        let [_, _, k0, k1, k2, k3] = *self.header();
        KeyId::new(u32::from_be_bytes([k0, k1, k2, k3])).unwrap_or(KeyId::FIRST)
    }

    /// Length of the plaintext it decrypts to, in bytes.
    pub fn plaintext_len(&self) -> usize {
        self.bytes.len().saturating_sub(OVERHEAD)
    }

    /// The binary form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The binary form, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The text form, `pii1.<base64url>` (the same as `Display`).
    pub fn to_text(&self) -> String {
        encode_text(&self.bytes)
    }

    fn header(&self) -> &[u8; HEADER_LEN] {
        self.bytes
            .first_chunk::<HEADER_LEN>()
            .unwrap_or(&[0; HEADER_LEN])
    }
}

/// The fields of an envelope, borrowed.
pub(crate) struct Parts<'a> {
    pub(crate) header: &'a [u8; HEADER_LEN],
    pub(crate) nonce: &'a [u8; NONCE_LEN],
    pub(crate) ciphertext: &'a [u8],
    pub(crate) tag: &'a [u8; TAG_LEN],
}

/// Checks the layout of a binary envelope and splits it.
pub(crate) fn parse_parts(bytes: &[u8]) -> Result<Parts<'_>, PiiError> {
    let (header, rest) = bytes
        .split_first_chunk::<HEADER_LEN>()
        .ok_or(PiiError::malformed("shorter than the envelope header"))?;
    let [version, alg, k0, k1, k2, k3] = *header;
    if version != VERSION {
        return Err(PiiError::UnsupportedVersion { version });
    }
    if Algorithm::from_id(alg).is_none() {
        return Err(PiiError::UnknownAlgorithm { id: alg });
    }
    if u32::from_be_bytes([k0, k1, k2, k3]) == 0 {
        return Err(PiiError::malformed("key id 0"));
    }
    let short = || PiiError::malformed("shorter than header, nonce and tag");
    let (nonce, rest) = rest.split_first_chunk::<NONCE_LEN>().ok_or_else(short)?;
    let (ciphertext, tag) = rest.split_last_chunk::<TAG_LEN>().ok_or_else(short)?;
    Ok(Parts {
        header,
        nonce,
        ciphertext,
        tag,
    })
}

/// Writes an envelope (header, nonce, `plaintext` encrypted in place by `seal`, tag) to `out`.
pub(crate) fn seal_into(
    out: &mut impl Sink,
    algorithm: Algorithm,
    key_id: KeyId,
    nonce: &[u8; NONCE_LEN],
    ctx: &Context<'_>,
    plaintext: &[u8],
    seal: impl FnOnce(&[u8], &mut [u8]) -> Result<[u8; TAG_LEN], PiiError>,
) -> Result<(), PiiError> {
    let [k0, k1, k2, k3] = key_id.get().to_be_bytes();
    let header = [VERSION, algorithm.id(), k0, k1, k2, k3];
    out.put(&header);
    out.put(nonce);
    out.put(plaintext);
    let body = out
        .written_mut()
        .get_mut(HEADER_LEN + NONCE_LEN..)
        .ok_or(PiiError::malformed("envelope buffer"))?;
    match seal(associated_data(&header, ctx).as_slice(), body) {
        Ok(tag) => {
            out.put(&tag);
            Ok(())
        }
        Err(e) => {
            // The buffer still holds the plaintext.
            body.zeroize();
            Err(e)
        }
    }
}

/// `pii1.` and the unpadded base64url of `bytes` (SIMD, `base64-simd`).
pub(crate) fn encode_text(bytes: &[u8]) -> String {
    let encoded = URL_SAFE_NO_PAD.encoded_length(bytes.len());
    let mut out = vec![0u8; TEXT_PREFIX.len() + encoded];
    let (prefix, dst) = out.split_at_mut(TEXT_PREFIX.len());
    prefix.copy_from_slice(TEXT_PREFIX.as_bytes());
    // `dst` is exactly `encoded_length` bytes, which `encode` requires.
    let _written = URL_SAFE_NO_PAD.encode(bytes, Out::from_slice(dst));
    // Base64url is ASCII, so this never fails; the fallback keeps it panic-free.
    String::from_utf8(out).unwrap_or_else(|_| {
        let mut text = String::from(TEXT_PREFIX);
        text.push_str(&URL_SAFE_NO_PAD.encode_to_string(bytes));
        text
    })
}

/// The number of bytes `body` (unpadded base64url) decodes to.
fn decoded_len(body: &str) -> Result<usize, PiiError> {
    URL_SAFE_NO_PAD
        .decoded_length(body.as_bytes())
        .map_err(|_| PiiError::malformed("invalid base64url"))
}

/// Decodes unpadded, canonical base64url into the front of `out`, refusing padding,
/// characters outside the alphabet and non-zero trailing bits (RFC 4648 §3.5), and an `out`
/// too short.
fn decode_into<'b>(body: &str, out: &'b mut [u8]) -> Result<&'b [u8], PiiError> {
    let invalid = || PiiError::malformed("invalid base64url");
    let n = decoded_len(body)?;
    if !canonical_tail(body.as_bytes()) {
        return Err(invalid());
    }
    let dst = out.get_mut(..n).ok_or_else(invalid)?;
    let decoded = URL_SAFE_NO_PAD
        .decode(body.as_bytes(), Out::from_slice(dst))
        .map_err(|_| invalid())?;
    Ok(decoded)
}

/// Whether the last character of unpadded base64url leaves no bits set past the encoded
/// bytes (the only encoding of a given byte string).
fn canonical_tail(body: &[u8]) -> bool {
    let Some(&last) = body.last() else {
        return true;
    };
    let value = match last {
        b'A'..=b'Z' => last - b'A',
        b'a'..=b'z' => last - b'a' + 26,
        b'0'..=b'9' => last - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return false,
    };
    match body.len() % 4 {
        2 => value & 0x0F == 0,
        3 => value & 0x03 == 0,
        _ => true,
    }
}

/// Decodes the text form into `out`, returning the binary envelope.
pub(crate) fn decode_text<'b>(text: &str, out: &'b mut [u8]) -> Result<&'b [u8], PiiError> {
    let body = text
        .strip_prefix(TEXT_PREFIX)
        .ok_or(PiiError::malformed("missing `pii1.` prefix"))?;
    decode_into(body, out)
}

/// The associated data of an envelope with this header in this context.
pub(crate) fn associated_data(header: &[u8; HEADER_LEN], ctx: &Context<'_>) -> SmallBuf<AAD_STACK> {
    let mut aad = SmallBuf::with_capacity(
        8 * 4
            + HEADER_LEN
            + ctx.tenant().len()
            + ctx.table().len()
            + ctx.column().len()
            + ctx.row().len(),
    );
    aad.put(header);
    for part in [ctx.tenant(), ctx.table(), ctx.column(), ctx.row()] {
        put_lp(&mut aad, part.as_bytes());
    }
    aad
}

impl fmt::Display for Envelope {
    /// Writes the text form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("algorithm", &self.algorithm())
            .field("key_id", &self.key_id().get())
            .field("plaintext_len", &self.plaintext_len())
            .finish()
    }
}

impl std::str::FromStr for Envelope {
    type Err = PiiError;

    /// As [`Envelope::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last character of unpadded base64url, against the bits it must leave clear: 4 of
    /// them after 2 characters of a group, 2 after 3, none after a whole group.
    #[test]
    fn canonical_tails() {
        for (body, ok) in [
            ("", true),
            ("AAAA", true),
            ("AA", true),
            ("AB", false),
            ("AQ", true),
            ("Ag", true),
            ("Ah", false),
            ("Aw", true),
            ("A0", false),
            ("AAE", true),
            ("AAF", false),
            ("AAc", true),
            ("AAd", false),
            ("AA0", true),
            ("AA1", false),
            ("AA8", true),
            ("AA-", false),
            ("AA_", false),
            ("AA=", false),
        ] {
            assert_eq!(canonical_tail(body.as_bytes()), ok, "{body:?}");
        }
    }

    fn sample() -> Envelope {
        let mut bytes = vec![VERSION, 1, 0, 0, 0, 7];
        bytes.extend_from_slice(&[9; NONCE_LEN]);
        bytes.extend_from_slice(b"abc");
        bytes.extend_from_slice(&[5; TAG_LEN]);
        Envelope::from_vec(bytes).unwrap()
    }

    #[test]
    fn header_fields_and_text_round_trip() {
        let e = sample();
        assert_eq!(e.version(), 1);
        assert_eq!(e.algorithm(), Algorithm::Aes256Gcm);
        assert_eq!(e.key_id().get(), 7);
        assert_eq!(e.plaintext_len(), 3);
        let text = e.to_text();
        assert!(text.starts_with("pii1."));
        assert_eq!(text.len(), 5 + (37_usize * 4).div_ceil(3));
        assert_eq!(Envelope::parse(&text).unwrap(), e);
        let p = parse_parts(e.as_bytes()).unwrap();
        assert_eq!(p.ciphertext, b"abc");
        assert_eq!(p.nonce, &[9; NONCE_LEN]);
        assert_eq!(p.tag, &[5; TAG_LEN]);
    }

    #[test]
    fn strict_parsing() {
        let text = sample().to_text();
        assert!(Envelope::parse(&text.replace("pii1.", "PII1.")).is_err());
        assert!(Envelope::parse(&format!("{text}=")).is_err());
        assert!(Envelope::parse(&format!(" {text}")).is_err());
        assert!(Envelope::parse(&format!("{text}\n")).is_err());
        assert!(Envelope::parse("pii1.").is_err());
        assert_eq!(
            Envelope::from_bytes(&[2, 1, 0, 0, 0, 1]),
            Err(PiiError::UnsupportedVersion { version: 2 })
        );
        assert_eq!(
            Envelope::from_bytes(&[1, 9, 0, 0, 0, 1]),
            Err(PiiError::UnknownAlgorithm { id: 9 })
        );
        assert!(Envelope::from_bytes(&[1, 1, 0, 0, 0, 0]).is_err());
        assert!(Envelope::from_bytes(&[1, 1, 0, 0, 0, 1, 0]).is_err());
    }

    #[test]
    fn simd_base64url_matches_the_scalar_codec_and_stays_strict() {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as SCALAR;
        let data: Vec<u8> = (0u8..=255).collect();
        for len in 0..=data.len() {
            let bytes = &data[..len];
            let text = encode_text(bytes);
            assert_eq!(
                text,
                format!("{TEXT_PREFIX}{}", SCALAR.encode(bytes)),
                "{len}"
            );
            let mut out = [0u8; 256];
            assert_eq!(decode_text(&text, &mut out).unwrap(), bytes, "{len}");
        }
        // One byte (`AQ`, 0x01): the second character carries 4 unused bits, which must be 0.
        let mut out = [0u8; 4];
        assert_eq!(decode_text("pii1.AQ", &mut out).unwrap(), [1]);
        for bad in [
            "pii1.AR",
            "pii1.AB_",
            "pii1.A",
            "pii1.AQ==",
            "pii1.A+",
            "pii1.A/",
        ] {
            assert!(decode_text(bad, &mut out).is_err(), "{bad}");
        }
        // An output buffer too short is an error, not a panic.
        assert!(decode_text("pii1.AAAAAAAA", &mut [0u8; 2]).is_err());
    }

    #[test]
    fn associated_data_is_unambiguous() {
        let h = [1, 1, 0, 0, 0, 1];
        let a = associated_data(&h, &Context::new("ab", "c", "d", "e"));
        let b = associated_data(&h, &Context::new("a", "bc", "d", "e"));
        assert_ne!(a.as_slice(), b.as_slice());
    }
}
