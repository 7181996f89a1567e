//! Masking for logs and screens: enough of a value to recognize it, not enough to use it.

use std::fmt;

/// A masking rule.
///
/// | mask | input | output |
/// |---|---|---|
/// | [`Phone`](Self::Phone) | `+1 (438) 900-7409` | `+1******7409` |
/// | [`Email`](Self::Email) | `jean.tremblay@example.com` | `j***@example.com` |
/// | [`Card`](Self::Card) | `4111 1111 1111 1111` | `**** **** **** 1111` |
/// | [`Address`](Self::Address) | `123 Main St, Montréal, QC H2X 1Y4` | `*** M*** S*, M*******, Q* H** ***` |
/// | [`Name`](Self::Name) | `Jean-Luc Tremblay` | `J***-L** T*******` |
/// | [`Secret`](Self::Secret) | `sk_live_51H8…x9Qz` (≥ 16 chars) | `****x9Qz` |
///
/// Rules are deliberately coarse and never fail: a value of the wrong shape is masked more,
/// not less (a "phone" with fewer than 8 digits shows no digit; an "email" without `@`
/// becomes `***`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mask {
    /// `+`, the first digit and the last four digits; the other digits become one `*` each,
    /// formatting is dropped. Fewer than 8 digits: every digit masked.
    Phone,
    /// The first character of the local part, `***`, `@` and the domain.
    Email,
    /// Card-like numbers: every digit but the last four masked, separators kept (PCI DSS
    /// allows showing at most the first six and last four). Fewer than 12 digits: every
    /// digit masked.
    Card,
    /// Postal addresses: every digit masked, and every letter but the first of each word.
    Address,
    /// Names: every letter but the first of each word masked.
    Name,
    /// API keys and tokens: `****` and the last four characters when the value has at least
    /// 16 characters, otherwise `********`.
    Secret,
}

/// A value shown masked by `Display` and `Debug`: wrap a plaintext before it reaches a log
/// line or a screen.
///
/// ```
/// use palisade_pii::{Mask, Masked};
/// use secrecy::{ExposeSecret, SecretString};
///
/// let phone = SecretString::from("+14389007409");
/// assert_eq!(Masked::phone(phone.expose_secret()).to_string(), "+1******7409");
/// assert_eq!(format!("{:?}", Masked::new(Mask::Email, "jean@example.com")), "\"j***@example.com\"");
/// ```
#[derive(Clone, Copy)]
pub struct Masked<'a> {
    mask: Mask,
    value: &'a str,
}

impl<'a> Masked<'a> {
    /// `value` under `mask`.
    pub const fn new(mask: Mask, value: &'a str) -> Self {
        Self { mask, value }
    }

    /// A phone number ([`Mask::Phone`]).
    pub const fn phone(value: &'a str) -> Self {
        Self::new(Mask::Phone, value)
    }

    /// An email address ([`Mask::Email`]).
    pub const fn email(value: &'a str) -> Self {
        Self::new(Mask::Email, value)
    }

    /// A card-like number ([`Mask::Card`]).
    pub const fn card(value: &'a str) -> Self {
        Self::new(Mask::Card, value)
    }

    /// A postal address ([`Mask::Address`]).
    pub const fn address(value: &'a str) -> Self {
        Self::new(Mask::Address, value)
    }

    /// A name ([`Mask::Name`]).
    pub const fn name(value: &'a str) -> Self {
        Self::new(Mask::Name, value)
    }

    /// An API key or token ([`Mask::Secret`]).
    pub const fn secret(value: &'a str) -> Self {
        Self::new(Mask::Secret, value)
    }
}

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.value;
        match self.mask {
            Mask::Phone => phone(v, f),
            Mask::Email => email(v, f),
            Mask::Card => card(v, f),
            Mask::Address => words(v, true, f),
            Mask::Name => words(v, false, f),
            Mask::Secret => secret(v, f),
        }
    }
}

impl fmt::Debug for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// `value` masked by `mask`, as a `String`.
pub fn mask(mask: Mask, value: &str) -> String {
    Masked::new(mask, value).to_string()
}

fn stars(n: usize, f: &mut dyn fmt::Write) -> fmt::Result {
    (0..n).try_for_each(|_| f.write_char('*'))
}

fn phone(v: &str, f: &mut dyn fmt::Write) -> fmt::Result {
    let digits = v.chars().filter(char::is_ascii_digit);
    let n = digits.clone().count();
    if v.trim_start().starts_with('+') {
        f.write_char('+')?;
    }
    if n < 8 {
        return stars(n.max(3), f);
    }
    for (i, d) in digits.enumerate() {
        f.write_char(if i == 0 || i + 4 >= n { d } else { '*' })?;
    }
    Ok(())
}

fn email(v: &str, f: &mut dyn fmt::Write) -> fmt::Result {
    let v = v.trim();
    match v.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            if let Some(c) = local.chars().next() {
                f.write_char(c)?;
            }
            write!(f, "***@{domain}")
        }
        _ => f.write_str("***"),
    }
}

fn card(v: &str, f: &mut dyn fmt::Write) -> fmt::Result {
    let n = v.chars().filter(char::is_ascii_digit).count();
    let shown = if n >= 12 { 4 } else { 0 };
    let mut seen = 0;
    for c in v.trim().chars() {
        if c.is_ascii_digit() {
            seen += 1;
            f.write_char(if seen + shown > n { c } else { '*' })?;
        } else if c == ' ' || c == '-' {
            f.write_char(c)?;
        } else {
            f.write_char('*')?;
        }
    }
    Ok(())
}

fn words(v: &str, mask_digits: bool, f: &mut dyn fmt::Write) -> fmt::Result {
    let mut word_start = true;
    for c in v.chars() {
        if c.is_alphanumeric() {
            let keep = word_start && (c.is_alphabetic() || !mask_digits);
            f.write_char(if keep { c } else { '*' })?;
            word_start = false;
        } else {
            f.write_char(c)?;
            word_start = true;
        }
    }
    Ok(())
}

fn secret(v: &str, f: &mut dyn fmt::Write) -> fmt::Result {
    let n = v.chars().count();
    if n < 16 {
        return f.write_str("********");
    }
    f.write_str("****")?;
    v.chars().skip(n - 4).try_for_each(|c| f.write_char(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_the_docs() {
        assert_eq!(mask(Mask::Phone, "+1 (438) 900-7409"), "+1******7409");
        assert_eq!(mask(Mask::Phone, "+14389007409"), "+1******7409");
        assert_eq!(mask(Mask::Phone, "+33 1 23 45 67 89"), "+3******6789");
        assert_eq!(mask(Mask::Phone, "555-1234"), "*******");
        assert_eq!(mask(Mask::Phone, "12"), "***");
        // 16 characters, the shortest secret whose end is shown.
        assert_eq!(mask(Mask::Secret, "0123456789abcdef"), "****cdef");
        assert_eq!(mask(Mask::Secret, "0123456789abcde"), "********");
        // 8 digits, the shortest number shown in part; 7 and fewer are all stars.
        assert_eq!(mask(Mask::Phone, "1234-5678"), "1***5678");
        assert_eq!(mask(Mask::Phone, "123-4567"), "*******");
        // `Debug` is the masked value, quoted, never the value.
        assert_eq!(
            format!("{:?}", Masked::new(Mask::Phone, "+14389007409")),
            "\"+1******7409\""
        );
        assert_eq!(
            mask(Mask::Email, "jean.tremblay@example.com"),
            "j***@example.com"
        );
        assert_eq!(mask(Mask::Email, "not-an-email"), "***");
        assert_eq!(mask(Mask::Email, "@example.com"), "***");
        assert_eq!(
            mask(Mask::Card, "4111 1111 1111 1111"),
            "**** **** **** 1111"
        );
        assert_eq!(
            mask(Mask::Card, "4111-1111-1111-1111"),
            "****-****-****-1111"
        );
        assert_eq!(mask(Mask::Card, "1234 5678"), "**** ****");
        assert_eq!(
            mask(Mask::Address, "123 Main St, Montréal, QC H2X 1Y4"),
            "*** M*** S*, M*******, Q* H** ***"
        );
        assert_eq!(mask(Mask::Name, "Jean-Luc Tremblay"), "J***-L** T*******");
        assert_eq!(mask(Mask::Secret, "sk_live_51H8abcdefx9Qz"), "****x9Qz");
        assert_eq!(mask(Mask::Secret, "short"), "********");
        assert_eq!(mask(Mask::Secret, ""), "********");
    }
}
