//! Code policies and code generation from the OS CSPRNG, without modulo bias.

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::OtpError;

/// Crockford's base32 alphabet (no I, L, O, U): <https://www.crockford.com/base32.html>.
pub const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The symbols a code is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Alphabet {
    /// Decimal digits `0`–`9`: SMS and voice codes, 4–10 of them.
    Digits,
    /// Crockford base32 (5 bits a symbol, case-insensitive, `I`/`L` read as `1`, `O` as `0`,
    /// hyphens ignored): longer codes sent by e-mail or used as recovery codes, 11–32 symbols.
    Crockford,
}

/// The length and alphabet of a one-time code.
///
/// The guessing probability per attempt is `1 / alphabet^length`: 10⁻⁶ for six digits, so
/// with 3 attempts an attacker wins one challenge in 333,333.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodePolicy {
    alphabet: Alphabet,
    length: u8,
}

impl CodePolicy {
    /// `length` decimal digits.
    ///
    /// # Errors
    ///
    /// [`OtpError::InvalidPolicy`] unless `4 <= length <= 10`.
    pub fn digits(length: u8) -> Result<Self, OtpError> {
        if !(4..=10).contains(&length) {
            return Err(OtpError::InvalidPolicy("digit codes have 4 to 10 digits"));
        }
        Ok(Self {
            alphabet: Alphabet::Digits,
            length,
        })
    }

    /// `length` Crockford base32 symbols.
    ///
    /// # Errors
    ///
    /// [`OtpError::InvalidPolicy`] unless `11 <= length <= 32`.
    pub fn crockford(length: u8) -> Result<Self, OtpError> {
        if !(11..=32).contains(&length) {
            return Err(OtpError::InvalidPolicy(
                "Crockford base32 codes have 11 to 32 symbols",
            ));
        }
        Ok(Self {
            alphabet: Alphabet::Crockford,
            length,
        })
    }

    /// The alphabet.
    pub const fn alphabet(&self) -> Alphabet {
        self.alphabet
    }

    /// The number of symbols.
    pub const fn length(&self) -> u8 {
        self.length
    }

    /// A new code from the OS CSPRNG (`getrandom`). Digits are drawn by rejection sampling:
    /// a random byte is used only when below 250 (= 25 × 10), so each digit is exactly
    /// uniform; base32 symbols take 5 random bits each (256 is a multiple of 32, no bias).
    ///
    /// # Errors
    ///
    /// [`OtpError::Random`] when the OS generator fails.
    pub fn generate(&self) -> Result<SecretString, OtpError> {
        let mut out = Zeroizing::new(String::with_capacity(usize::from(self.length)));
        let mut pool = Zeroizing::new([0u8; 64]);
        let mut used = pool.len();
        while out.len() < usize::from(self.length) {
            if used == pool.len() {
                getrandom::fill(pool.as_mut_slice()).map_err(|_| OtpError::Random)?;
                used = 0;
            }
            let byte = pool.get(used).copied().unwrap_or(u8::MAX);
            used += 1;
            if let Some(s) = symbol(self.alphabet, byte) {
                out.push(char::from(s));
            }
        }
        Ok(SecretString::from(out.as_str()))
    }

    /// The canonical form of a code as typed by a user: surrounding whitespace removed; for
    /// Crockford codes, hyphens and spaces dropped, letters upper-cased, `I`/`L` read as `1`
    /// and `O` as `0`. Anything else is kept as is (and then simply does not match).
    pub fn normalize(&self, typed: &str) -> Zeroizing<String> {
        let typed = typed.trim();
        match self.alphabet {
            Alphabet::Digits => Zeroizing::new(typed.to_owned()),
            Alphabet::Crockford => Zeroizing::new(
                typed
                    .chars()
                    .filter(|c| *c != '-' && *c != ' ')
                    .map(|c| match c.to_ascii_uppercase() {
                        'I' | 'L' => '1',
                        'O' => '0',
                        u => u,
                    })
                    .collect(),
            ),
        }
    }
}

/// The symbol a random byte gives, or `None` when the byte is rejected: digits use only bytes
/// below 250 (25 of each digit), base32 the low 5 bits (8 bytes for each symbol).
fn symbol(alphabet: Alphabet, byte: u8) -> Option<u8> {
    match alphabet {
        Alphabet::Digits if byte < 250 => Some(b'0' + byte % 10),
        Alphabet::Digits => None,
        Alphabet::Crockford => CROCKFORD.get(usize::from(byte & 31)).copied(),
    }
}

impl Default for CodePolicy {
    /// Six decimal digits.
    fn default() -> Self {
        Self {
            alphabet: Alphabet::Digits,
            length: 6,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use secrecy::ExposeSecret;

    /// No modulo bias: over every byte value, each digit comes from exactly 25 bytes and each
    /// base32 symbol from exactly 8 (a plain `byte % 10` gives 0–5 from 26 bytes, 6–9 from 25).
    #[test]
    fn every_symbol_is_equally_likely() {
        let mut digits = [0u32; 10];
        let mut b32 = [0u32; 32];
        for byte in 0..=u8::MAX {
            if let Some(d) = symbol(Alphabet::Digits, byte) {
                digits[usize::from(d - b'0')] += 1;
            }
            let c = symbol(Alphabet::Crockford, byte).unwrap();
            b32[CROCKFORD.iter().position(|x| *x == c).unwrap()] += 1;
        }
        assert_eq!(digits, [25; 10]);
        assert_eq!(b32, [8; 32]);
    }

    #[test]
    fn digits_are_uniform_enough_and_well_formed() {
        let p = CodePolicy::digits(10).unwrap();
        let mut counts = [0u32; 10];
        for _ in 0..2_000 {
            let c = p.generate().unwrap();
            assert_eq!(c.expose_secret().len(), 10);
            for b in c.expose_secret().bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        // 20,000 digits: each expected 2,000 (σ ≈ 42); a generator that skips or repeats
        // digits falls outside this band (the exact bias check is the test above).
        for c in counts {
            assert!((1_700..2_300).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn crockford_codes_use_the_alphabet() {
        let p = CodePolicy::crockford(16).unwrap();
        let c = p.generate().unwrap();
        assert!(c.expose_secret().bytes().all(|b| CROCKFORD.contains(&b)));
        assert_eq!(p.normalize(" abcd-ilo0 ").as_str(), "ABCD1100");
    }

    #[test]
    fn policies_out_of_range_are_refused() {
        assert!(CodePolicy::digits(3).is_err());
        assert!(CodePolicy::digits(11).is_err());
        assert!(CodePolicy::crockford(10).is_err());
        assert!(CodePolicy::crockford(33).is_err());
    }
}
