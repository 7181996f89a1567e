//! Phone numbers in E.164 form, parsed and validated against libphonenumber's metadata (the
//! [`rlibphonenumber`] crate: a port of Google's libphonenumber, differentially fuzzed against
//! the C++ library, bundling Google's real `PhoneNumberMetadata.xml`).
//!
//! One normalization for the workspace: `palisade-pii`'s phone normalizer for blind indexes
//! calls [`PhoneNumber::parse`], so a number written two ways gets one blind index.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use rlibphonenumber::{
    NumberLengthType, PHONE_NUMBER_UTIL, ParseError, PhoneNumberFormat, PhoneNumberType,
    ValidationError,
};

/// The longest input [`PhoneNumber::parse`] looks at, in bytes: a phone number with
/// punctuation and an extension fits many times over; longer input is refused before any
/// regular expression of the metadata runs on it.
pub const MAX_INPUT_BYTES: usize = 256;

/// Why a phone number was refused.
///
/// Errors never contain the input (a phone number is personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{}", self.reason())]
#[non_exhaustive]
pub enum PhoneError {
    /// No phone number could be read: fewer than three digits, letters where digits belong,
    /// or a national number given without a default region.
    NotANumber,
    /// The country calling code belongs to no country or non-geographic entity, or a
    /// national number was given without a default region to take it from.
    InvalidCountryCode,
    /// Fewer digits than any number of the country's numbering plan.
    TooShort,
    /// More digits than any number of the country's numbering plan (or than E.164's 15).
    TooLong,
    /// A possible length, but no number of the country's numbering plan matches these
    /// digits (an unassigned area code or range).
    NotInNumberingPlan,
    /// The input is longer than [`MAX_INPUT_BYTES`].
    InputTooLong,
    /// The default region is not an ISO 3166-1 alpha-2 code the metadata knows.
    UnknownRegion,
}

impl PhoneError {
    /// What was wrong, in a few words (the error's `Display`): `not a phone number`,
    /// `invalid country calling code`, `too short for the numbering plan`, `too long for the
    /// numbering plan`, `not a valid number in the numbering plan`, `input longer than 256
    /// bytes`, `unknown region code`.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::NotANumber => "not a phone number",
            Self::InvalidCountryCode => "invalid country calling code",
            Self::TooShort => "too short for the numbering plan",
            Self::TooLong => "too long for the numbering plan",
            Self::NotInNumberingPlan => "not a valid number in the numbering plan",
            Self::InputTooLong => "input longer than 256 bytes",
            Self::UnknownRegion => "unknown region code",
        }
    }
}

/// A region (country or territory) for national numbers: an ISO 3166-1 alpha-2 code that
/// libphonenumber's metadata knows (`CA`, `US`, `FR`, `DZ`, `GB`, …), case-insensitive.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region {
    region: rlibphonenumber::Region,
    /// Its code, kept so that [`Region::as_str`] can lend it.
    code: rlibphonenumber::RegionStr,
}

impl Region {
    /// The region for an ISO 3166-1 alpha-2 code (`"ca"` and `"CA"` alike).
    ///
    /// # Errors
    ///
    /// [`PhoneError::UnknownRegion`] when `code` is not two ASCII letters of a region of the
    /// metadata.
    pub fn new(code: &str) -> Result<Self, PhoneError> {
        let upper = code.to_ascii_uppercase();
        if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(PhoneError::UnknownRegion);
        }
        let region =
            rlibphonenumber::Region::from_code(&upper).map_err(|_| PhoneError::UnknownRegion)?;
        if PHONE_NUMBER_UTIL
            .get_country_code_for_region(region)
            .is_none()
        {
            return Err(PhoneError::UnknownRegion);
        }
        Ok(Self {
            region,
            code: region.as_region_str(),
        })
    }

    /// The upper-case alpha-2 code.
    pub fn as_str(&self) -> &str {
        self.code.as_str()
    }
}

impl FromStr for Region {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({})", self.as_str())
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of line a number is, where the metadata tells (ITU-T / libphonenumber's
/// `PhoneNumberType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NumberType {
    /// A fixed (landline) number.
    FixedLine,
    /// A mobile number.
    Mobile,
    /// Fixed line or mobile: the numbering plan does not tell them apart (the NANP: `+1`).
    FixedLineOrMobile,
    /// A freephone number.
    TollFree,
    /// A premium-rate number.
    PremiumRate,
    /// A shared-cost number.
    SharedCost,
    /// A personal number, routed to a mobile or fixed line.
    PersonalNumber,
    /// Voice over IP.
    Voip,
    /// A pager.
    Pager,
    /// A "universal access" (company) number.
    Uan,
    /// Voicemail access.
    Voicemail,
    /// Any other type the metadata names (standard rate, carrier-specific, …).
    Other,
}

impl NumberType {
    fn from_metadata(t: PhoneNumberType) -> Option<Self> {
        use PhoneNumberType as T;
        Some(match t {
            T::FixedLine => Self::FixedLine,
            T::Mobile => Self::Mobile,
            T::FixedLineOrMobile => Self::FixedLineOrMobile,
            T::TollFree => Self::TollFree,
            T::PremiumRate => Self::PremiumRate,
            T::SharedCost => Self::SharedCost,
            T::PersonalNumber => Self::PersonalNumber,
            T::VoIP => Self::Voip,
            T::Pager => Self::Pager,
            T::UAN => Self::Uan,
            T::VoiceMail => Self::Voicemail,
            T::Unknown => return None,
        })
    }
}

/// A phone number valid in its country's numbering plan, held in E.164 form (`+` and up to
/// 15 digits: `+14155550123`), with its extension kept apart.
///
/// ```
/// use palisade_sanitize::phone::{NumberType, PhoneNumber, Region};
///
/// let ca = Region::new("CA")?;
/// let n = PhoneNumber::parse("(506) 234-5678 ext. 12", Some(ca))?;
/// assert_eq!(n.e164(), "+15062345678");
/// assert_eq!(n.extension(), Some("12"));
/// // The same number from France, dialled with France's international prefix `00`.
/// let fr = PhoneNumber::parse("00 1 506 234 5678", Some(Region::new("FR")?))?;
/// assert_eq!(fr.e164(), "+15062345678");
/// assert_eq!(PhoneNumber::parse("+33 6 12 34 56 78", None)?.number_type(), Some(NumberType::Mobile));
/// # Ok::<(), palisade_sanitize::phone::PhoneError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    e164: String,
    country_code: u16,
    extension: Option<String>,
    kind: NumberType,
}

/// Unicode 14.0's decimal digit zeros (general category `Nd`): every decimal digit `d` is
/// `zero + d` for one of these (Unicode encodes each decimal set as ten consecutive code
/// points). Generated from the Unicode Character Database.
const DIGIT_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The ASCII digit of a Unicode decimal digit (`٣` → `3`), or `None`.
pub fn ascii_digit(c: char) -> Option<char> {
    let cp = u32::from(c);
    let i = DIGIT_ZEROS.partition_point(|&zero| zero <= cp);
    let zero = *DIGIT_ZEROS.get(i.checked_sub(1)?)?;
    let d = cp - zero;
    if d < 10 {
        char::from_digit(d, 10)
    } else {
        None
    }
}

/// `input` with every Unicode decimal digit written in ASCII (borrowed when it is ASCII).
fn ascii_digits(input: &str) -> Cow<'_, str> {
    if input.is_ascii() {
        return Cow::Borrowed(input);
    }
    Cow::Owned(input.chars().map(|c| ascii_digit(c).unwrap_or(c)).collect())
}

impl PhoneNumber {
    /// Parses and validates a phone number, as libphonenumber's `PhoneNumberUtil.parse` then
    /// `isValidNumber` do.
    ///
    /// Accepted: international forms with `+` (`+1 (415) 555-0123`, `+44 20 7031 3000`);
    /// national forms (`(415) 555-0123`, `020 7031 3000`, with the national prefix or not)
    /// and the region's international prefix (`00` in France and Britain, `011` in the
    /// NANP) when `region` is given; punctuation and spaces; decimal digits of any Unicode
    /// script (Arabic-Indic `٠١٢…`, Devanagari, full-width, …), mapped to ASCII first; an
    /// extension (`ext. 12`, `x12`, `;ext=12`), kept apart; `tel:` URIs (RFC 3966). Letters
    /// inside the number (keypad letters, `1-800-FLOWERS`, or an `O` typed for a `0`) are
    /// refused rather than read as keypad digits.
    ///
    /// The number must be valid in its country's numbering plan (not only of a possible
    /// length). A number with a `+` (or an international prefix) may belong to any country,
    /// whatever `region` is.
    ///
    /// # Errors
    ///
    /// [`PhoneError::NotANumber`], [`PhoneError::InvalidCountryCode`],
    /// [`PhoneError::TooShort`], [`PhoneError::TooLong`],
    /// [`PhoneError::NotInNumberingPlan`] or [`PhoneError::InputTooLong`].
    pub fn parse(input: &str, region: Option<Region>) -> Result<Self, PhoneError> {
        if input.len() > MAX_INPUT_BYTES {
            return Err(PhoneError::InputTooLong);
        }
        let normalized = ascii_digits(input);
        let number = parse_raw(region, &normalized)?;
        if !letters_only_after_number(region, &normalized, &number) {
            return Err(PhoneError::NotANumber);
        }
        // libphonenumber's `isValidNumber` is `getNumberType(…) != UNKNOWN` (both look the
        // region up by the country code, then match the national number against the types'
        // patterns), so one type look-up answers both.
        let Some(kind) = NumberType::from_metadata(PHONE_NUMBER_UTIL.get_number_type(&number))
        else {
            return Err(
                match PHONE_NUMBER_UTIL.is_possible_number_with_reason(&number) {
                    Err(ValidationError::InvalidCountryCode) => PhoneError::InvalidCountryCode,
                    // A local number (`253-0000` in the US: no area code) is too short for a
                    // number that can be dialled from anywhere in its country.
                    Err(ValidationError::TooShort) | Ok(NumberLengthType::IsPossibleLocalOnly) => {
                        PhoneError::TooShort
                    }
                    Err(ValidationError::TooLong) => PhoneError::TooLong,
                    Err(ValidationError::InvalidLength) | Ok(NumberLengthType::IsPossible) => {
                        PhoneError::NotInNumberingPlan
                    }
                },
            );
        };
        let e164 = PHONE_NUMBER_UTIL
            .format(&number, PhoneNumberFormat::E164)
            .into_owned();
        if e164.len() > 16 {
            return Err(PhoneError::TooLong);
        }
        let country_code =
            u16::try_from(number.country_code).map_err(|_| PhoneError::InvalidCountryCode)?;
        Ok(Self {
            e164,
            country_code,
            extension: number.extension,
            kind,
        })
    }

    /// The E.164 form: `+`, the country calling code and the national significant number,
    /// ASCII digits only (`+14155550123`).
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The country calling code (`1`, `33`, `213`, `44`).
    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// The extension's digits, if the input had one (it is not part of the E.164 form).
    pub fn extension(&self) -> Option<&str> {
        self.extension.as_deref()
    }

    /// The type of line. `Some` for every number [`PhoneNumber::parse`] accepts: in
    /// libphonenumber a number is valid exactly when the metadata gives it a type.
    pub fn number_type(&self) -> Option<NumberType> {
        Some(self.kind)
    }

    /// The E.164 form, consuming the number.
    pub fn into_e164(self) -> String {
        self.e164
    }
}

/// Whether letters in `input`, if any, come after the number (an extension marker: `ext`,
/// `x`, `доб`, …), not inside it. libphonenumber reads letters in a number as a keypad's
/// (`1-800-FLOWERS`, and a mistyped `74O9` silently as `7469`): here the number must be the
/// same when the input is cut at its first letter, or it is refused.
fn letters_only_after_number(
    region: Option<Region>,
    input: &str,
    number: &rlibphonenumber::PhoneNumber,
) -> bool {
    let body = match input.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => input.get(4..).unwrap_or(""),
        _ => input,
    };
    let Some(first_letter) = body.find(char::is_alphabetic) else {
        return true;
    };
    let main = body.get(..first_letter).unwrap_or("");
    parse_raw(region, main).is_ok_and(|m| {
        m.country_code == number.country_code
            && m.get_national_significant_number() == number.get_national_significant_number()
    })
}

/// libphonenumber's parse (`PhoneNumberUtil.parse`), its errors mapped to ours.
fn parse_raw(
    region: Option<Region>,
    input: &str,
) -> Result<rlibphonenumber::PhoneNumber, PhoneError> {
    PHONE_NUMBER_UTIL
        .parse(input, region.map(|r| r.region))
        .map_err(|e| match e {
            ParseError::InvalidCountryCode => PhoneError::InvalidCountryCode,
            ParseError::TooShortAfterIdd | ParseError::TooShortNsn => PhoneError::TooShort,
            ParseError::TooLongNsn => PhoneError::TooLong,
            ParseError::NotANumber(_) => PhoneError::NotANumber,
        })
}

impl FromStr for PhoneNumber {
    type Err = PhoneError;

    /// Parses an international number (`+` and the country code), without a default region.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s, None)
    }
}

impl fmt::Display for PhoneNumber {
    /// The E.164 form (without the extension).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl fmt::Debug for PhoneNumber {
    /// Masked: the country code and the last two digits only (`+1…23`), since a phone
    /// number is personal data and `Debug` ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = self
            .e164
            .get(self.e164.len().saturating_sub(2)..)
            .unwrap_or("");
        write!(
            f,
            "PhoneNumber(+{}…{tail}, {:?})",
            self.country_code, self.kind
        )
    }
}
