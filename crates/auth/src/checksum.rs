//! The checksum of an API key: CRC-32 of the key's body in six base62 characters, the scheme
//! of GitHub's token formats ("Behind GitHub's new authentication token formats", GitHub
//! blog, 2021-04-05: <https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/>).
//!
//! A checksum is not a security control (anyone can compute it): it lets a secret scanner or
//! a user tell a mistyped or truncated key from a real one offline, and lets a server refuse
//! such keys without a store lookup. CRC-32 detects every error confined to 32 consecutive
//! bits, so every single-character change.

use crc::{CRC_32_ISO_HDLC, Crc};

/// The base62 alphabet of ids, secrets and checksums: digits, then upper, then lower case.
pub(crate) const BASE62: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The length of a checksum, in base62 characters (62⁶ > 2³², so every CRC-32 fits).
pub const CHECKSUM_LEN: usize = 6;

/// CRC-32 (ISO-HDLC, the zlib/PNG polynomial GitHub uses).
const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// The checksum of `body`: its CRC-32 as six base62 digits, most significant first,
/// left-padded with `0`.
pub(crate) fn checksum(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut value = CRC32.checksum(body);
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        // `value % 62` is below 62: the index is in bounds.
        *slot = BASE62.get((value % 62) as usize).copied().unwrap_or(b'0');
        value /= 62;
    }
    out
}

/// Whether `byte` is a base62 character.
pub(crate) fn is_base62(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // CRC-32("123456789") = 0xCBF43926 (the catalogue's check value) = 3421780262
        // in base62 (Python: zlib.crc32 then repeated divmod 62) → "3jZRME".
        assert_eq!(CRC32.checksum(b"123456789"), 0xCBF4_3926);
        assert_eq!(&checksum(b"123456789"), b"3jZRME");
        assert_eq!(&checksum(b""), b"000000");
    }
}
