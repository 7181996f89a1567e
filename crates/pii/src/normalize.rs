//! Canonical forms of values before they are blind-indexed, so that equal values written
//! differently ("+1 (438) 900-7409", "+14389007409") index the same.

use palisade_sanitize::phone::{PhoneNumber, Region};
use zeroize::Zeroizing;

use crate::PiiError;

/// How a value is canonicalized before its blind index is computed.
///
/// Normalizers see plaintext: their output lives in a zeroize-on-drop buffer, and their
/// errors never contain the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Normalizer {
    /// The value byte for byte.
    Exact,
    /// Free text: leading and trailing whitespace removed, every inner run of whitespace
    /// made one space, lowercased (Unicode default case mapping). No Unicode normalization
    /// (NFC/NFKC) is applied: a precomposed `é` and `e` + combining accent differ.
    Text,
    /// An email address: trimmed and lowercased (the whole address, local part included:
    /// practically every provider treats it case-insensitively). Must contain `@` with a
    /// non-empty local part and domain, and no whitespace. No provider-specific rules (dots
    /// or `+tags` in Gmail addresses are kept).
    Email,
    /// A phone number, written in international form (`+` and the country code), as its
    /// E.164 form: parsed and validated by `palisade-sanitize`'s
    /// [`PhoneNumber::parse`](palisade_sanitize::phone::PhoneNumber::parse) (libphonenumber's
    /// metadata), the one phone normalization of the workspace. `+1 (438) 900-7409`,
    /// `+1.438.900.7409` and `+14389007409` all become `+14389007409`; Unicode digits are
    /// read. Refused: a national number without its country code (`438 900 7409`, use
    /// [`Normalizer::PhoneIn`]), a number invalid in its country's numbering plan, and a
    /// number with an extension (index the number without it: different extensions are
    /// different people). Parsing copies the value into buffers of the `rlibphonenumber` crate
    /// that are not zeroized on drop; the canonical form returned is.
    Phone,
    /// A phone number as [`Normalizer::Phone`], with national forms read in a default
    /// region: `(438) 900-7409` in `CA`, `001 438 900 7409` in `FR` (its international
    /// prefix), `+1 438 900 7409` anywhere all become `+14389007409`, the same canonical form
    /// (so the same blind index) as [`Normalizer::Phone`] gives.
    PhoneIn(Region),
    /// ASCII digits only, everything else dropped (card-like numbers, postal codes made of
    /// digits). At least one digit is required.
    Digits,
    /// The last `n` ASCII digits (for example the last four digits of a phone number, in a
    /// compound index with a country). At least `n` digits are required, and `n` ≥ 1.
    LastDigits(u8),
}

impl Normalizer {
    /// The normalizer's name, as in errors: `exact`, `text`, `email`, `phone`, `digits`,
    /// `last-digits`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Text => "text",
            Self::Email => "email",
            Self::Phone | Self::PhoneIn(_) => "phone",
            Self::Digits => "digits",
            Self::LastDigits(_) => "last-digits",
        }
    }

    /// The canonical form of `value`.
    ///
    /// ```
    /// use palisade_pii::Normalizer;
    /// assert_eq!(*Normalizer::Phone.normalize("+1 (438) 900-7409")?, "+14389007409");
    /// assert_eq!(*Normalizer::Email.normalize("  Jean@Example.COM ")?, "jean@example.com");
    /// assert_eq!(*Normalizer::Text.normalize(" Rue  Sainte-Catherine\tO. ")?, "rue sainte-catherine o.");
    /// assert_eq!(*Normalizer::LastDigits(4).normalize("+1 438 900 7409")?, "7409");
    /// # Ok::<(), palisade_pii::PiiError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`PiiError::Normalization`] when the value does not have the expected shape.
    pub fn normalize(self, value: &str) -> Result<Zeroizing<String>, PiiError> {
        let err = |reason| PiiError::Normalization {
            normalizer: self.name(),
            reason,
        };
        let mut out = Zeroizing::new(String::with_capacity(value.len()));
        match self {
            Self::Exact => out.push_str(value),
            Self::Text => {
                for (i, word) in value.split_whitespace().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.extend(word.chars().flat_map(char::to_lowercase));
                }
            }
            Self::Email => {
                let trimmed = value.trim();
                let (local, domain) = trimmed.rsplit_once('@').ok_or(err("no `@`"))?;
                if local.is_empty() || domain.is_empty() {
                    return Err(err("empty local part or domain"));
                }
                if trimmed.chars().any(char::is_whitespace) {
                    return Err(err("whitespace inside the address"));
                }
                out.extend(trimmed.chars().flat_map(char::to_lowercase));
            }
            Self::Phone => return phone(value, None),
            Self::PhoneIn(region) => return phone(value, Some(region)),
            Self::Digits => {
                out.extend(value.chars().filter(char::is_ascii_digit));
                if out.is_empty() {
                    return Err(err("no digits"));
                }
            }
            Self::LastDigits(n) => {
                let n = usize::from(n);
                if n == 0 {
                    return Err(err("keeps at least one digit"));
                }
                let total = value.chars().filter(char::is_ascii_digit).count();
                let skip = total.checked_sub(n).ok_or(err("fewer digits than kept"))?;
                out.extend(value.chars().filter(char::is_ascii_digit).skip(skip));
            }
        }
        Ok(out)
    }
}

/// The E.164 form of a phone number, in a zeroizing buffer.
fn phone(value: &str, region: Option<Region>) -> Result<Zeroizing<String>, PiiError> {
    let err = |reason| PiiError::Normalization {
        normalizer: "phone",
        reason,
    };
    let number = PhoneNumber::parse(value, region).map_err(|e| err(e.reason()))?;
    phone_e164(&number)?;
    Ok(Zeroizing::new(number.into_e164()))
}

/// The canonical form of an already parsed phone number: its E.164 form, refused when it
/// has an extension (as [`Normalizer::Phone`] refuses one).
pub(crate) fn phone_e164(number: &PhoneNumber) -> Result<&str, PiiError> {
    if number.extension().is_some() {
        return Err(PiiError::Normalization {
            normalizer: "phone",
            reason: "has an extension",
        });
    }
    Ok(number.e164())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_forms() {
        for ok in [
            "+14389007409",
            "+1 438 900 7409",
            "+1 (438) 900-7409",
            "+1.438.900.7409",
            " +1\u{a0}438\u{a0}900\u{a0}7409 ",
            "+١ ٤٣٨ ٩٠٠ ٧٤٠٩",
            // Repeated pluses are read as one (libphonenumber's reading).
            "++14389007409",
        ] {
            assert_eq!(
                *Normalizer::Phone.normalize(ok).unwrap(),
                "+14389007409",
                "{ok}"
            );
        }
        for bad in [
            "4389007409",
            "+1 438 900 74O9",
            "+0 438 900 7409",
            "+1234567",
            "+1234567890123456",
            "",
            "+",
            // Ten digits after +1, but no such area code (the old shape check took it).
            "+1 555 900 7409",
            "+1 438 900 7409 ext. 12",
        ] {
            assert!(Normalizer::Phone.normalize(bad).is_err(), "{bad}");
        }
        let ca = Region::new("CA").unwrap();
        assert_eq!(
            *Normalizer::PhoneIn(ca).normalize("(438) 900-7409").unwrap(),
            "+14389007409"
        );
        assert_eq!(
            *Normalizer::PhoneIn(Region::new("FR").unwrap())
                .normalize("001 438 900 7409")
                .unwrap(),
            "+14389007409"
        );
    }

    #[test]
    fn email_text_digits() {
        assert!(Normalizer::Email.normalize("no-at.example.com").is_err());
        assert!(Normalizer::Email.normalize("@example.com").is_err());
        assert!(Normalizer::Email.normalize("a b@example.com").is_err());
        assert_eq!(
            *Normalizer::Text.normalize("  ÉCOLE   Ste-Anne ").unwrap(),
            "école ste-anne"
        );
        assert_eq!(*Normalizer::Text.normalize("   ").unwrap(), "");
        assert_eq!(
            *Normalizer::Digits.normalize("4111-1111 1111-1111").unwrap(),
            "4111111111111111"
        );
        assert!(Normalizer::Digits.normalize("abc").is_err());
        assert!(Normalizer::LastDigits(4).normalize("123").is_err());
        assert!(Normalizer::LastDigits(0).normalize("123").is_err());
        assert_eq!(*Normalizer::Exact.normalize(" A ").unwrap(), " A ");
    }
}
