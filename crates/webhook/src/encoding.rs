//! Signature encodings: hex and base64, decoded onto the stack.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};

/// How a scheme writes MAC bytes into a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// Hexadecimal, either case accepted, lowercase produced (GitHub, Stripe, Slack).
    Hex,
    /// Standard base64 alphabet (RFC 4648 §4), padding optional on input and produced on
    /// output (Standard Webhooks, Shopify, Twilio).
    Base64,
}

impl Encoding {
    /// Writes `bytes` in this encoding.
    pub fn encode(self, bytes: &[u8]) -> String {
        match self {
            Self::Hex => hex::encode(bytes),
            Self::Base64 => STANDARD.encode(bytes),
        }
    }

    /// Decodes `text` into `buf`, returning the decoded prefix, or `None` when `text` is not
    /// valid in this encoding or decodes to more than `buf` holds.
    pub(crate) fn decode<'b>(self, text: &str, buf: &'b mut [u8; 64]) -> Option<&'b [u8]> {
        match self {
            Self::Hex => {
                // `const-hex` would accept a `0x` prefix; signatures never carry one.
                if !text.len().is_multiple_of(2)
                    || text.len() > 128
                    || text.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"))
                {
                    return None;
                }
                let out = buf.get_mut(..text.len() / 2)?;
                hex::decode_to_slice(text, out).ok()?;
                Some(out)
            }
            Self::Base64 => {
                // 88 characters of base64 carry at most 64 bytes; refuse longer input before
                // decoding so the buffer can never be too small.
                if text.len() > 88 {
                    return None;
                }
                let n = STANDARD_PAD_INDIFFERENT.decode_slice(text, buf).ok()?;
                buf.get(..n)
            }
        }
    }
}

impl std::str::FromStr for Encoding {
    type Err = crate::WebhookError;

    /// Accepts `hex` or `base64` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "hex" => Ok(Self::Hex),
            "base64" | "b64" => Ok(Self::Base64),
            _ => Err(crate::WebhookError::config(
                "unknown signature encoding (expected hex or base64)",
            )),
        }
    }
}

/// Decodes base64 configuration material (secrets, keys), padded or not.
pub(crate) fn decode_base64_secret(text: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    STANDARD_PAD_INDIFFERENT
        .decode(text)
        .ok()
        .map(zeroize::Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refusals() {
        let mut buf = [0u8; 64];
        assert_eq!(
            Encoding::Hex.decode("00ff", &mut buf),
            Some(&[0u8, 255][..])
        );
        assert_eq!(
            Encoding::Hex.decode("00FF", &mut buf),
            Some(&[0u8, 255][..])
        );
        assert_eq!(Encoding::Hex.decode("0", &mut buf), None);
        assert_eq!(Encoding::Hex.decode("zz", &mut buf), None);
        assert_eq!(Encoding::Hex.decode("0x00", &mut buf), None);
        assert_eq!(Encoding::Hex.decode("0X00", &mut buf), None);
        assert_eq!(Encoding::Hex.decode(&"00".repeat(65), &mut buf), None);
        assert_eq!(
            Encoding::Base64.decode("AP8=", &mut buf),
            Some(&[0u8, 255][..])
        );
        assert_eq!(
            Encoding::Base64.decode("AP8", &mut buf),
            Some(&[0u8, 255][..])
        );
        assert_eq!(Encoding::Base64.decode("!!", &mut buf), None);
        let long = STANDARD.encode([7u8; 64]);
        assert_eq!(
            Encoding::Base64.decode(&long, &mut buf),
            Some(&[7u8; 64][..])
        );
        assert_eq!(
            Encoding::Base64.decode(&STANDARD.encode([7u8; 65]), &mut buf),
            None
        );
    }

    #[test]
    fn names_parse_in_any_case() {
        for (name, want) in [
            ("hex", Encoding::Hex),
            ("HEX", Encoding::Hex),
            ("base64", Encoding::Base64),
            ("Base64", Encoding::Base64),
            ("b64", Encoding::Base64),
        ] {
            assert_eq!(name.parse::<Encoding>().ok(), Some(want), "{name}");
        }
        assert!("base32".parse::<Encoding>().is_err());
    }
}
