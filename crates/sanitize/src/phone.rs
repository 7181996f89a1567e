//! Phone numbers in E.164 form, parsed and validated against libphonenumber's metadata (the
//! [`phonenumber`] crate, which bundles Google's real `PhoneNumberMetadata.xml`).
//!
//! One normalization for the workspace: `palisade-pii`'s phone normalizer for blind indexes
//! calls [`PhoneNumber::parse`], so a number written two ways gets one blind index.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;

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
pub struct Region(Id);

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
        let id = Id::from_str(&upper).map_err(|_| PhoneError::UnknownRegion)?;
        if DATABASE.by_id(id.as_ref()).is_none() {
            return Err(PhoneError::UnknownRegion);
        }
        Ok(Self(id))
    }

    /// The upper-case alpha-2 code.
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
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
    fn from_metadata(t: phonenumber::Type) -> Option<Self> {
        use phonenumber::Type as T;
        Some(match t {
            T::FixedLine => Self::FixedLine,
            T::Mobile => Self::Mobile,
            T::FixedLineOrMobile => Self::FixedLineOrMobile,
            T::TollFree => Self::TollFree,
            T::PremiumRate => Self::PremiumRate,
            T::SharedCost => Self::SharedCost,
            T::PersonalNumber => Self::PersonalNumber,
            T::Voip => Self::Voip,
            T::Pager => Self::Pager,
            T::Uan => Self::Uan,
            T::Voicemail => Self::Voicemail,
            T::Unknown => return None,
            _ => Self::Other,
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
    kind: Option<NumberType>,
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
    /// Parses and validates a phone number.
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
        let Checked {
            number,
            kind,
            valid,
        } = read(region, &normalized)?;
        if !letters_only_after_number(region, &normalized, &number) {
            return Err(PhoneError::NotANumber);
        }
        let country_code = number.code().value();
        let national = number.national().to_string();
        if !valid {
            let meta = number.metadata(&DATABASE).or_else(|| {
                DATABASE
                    .by_code(&country_code)
                    .and_then(|metas| metas.into_iter().next())
            });
            return Err(meta.map_or(PhoneError::InvalidCountryCode, |m| {
                invalid_reason(m, &national)
            }));
        }
        let mut e164 = String::with_capacity(1 + 3 + national.len());
        e164.push('+');
        e164.push_str(&country_code.to_string());
        e164.push_str(&national);
        if e164.len() > 16 {
            return Err(PhoneError::TooLong);
        }
        // `phonenumber` 0.3.10 can keep a trunk `0` after the country code (`000 41 555 0123`
        // in France came out as `+330415550123`, which parses back as `+33415550123`). Only
        // a number whose national part starts with `0` can be affected (Italy's numbers keep
        // theirs rightly): for those, the E.164 form must parse back to itself, or the number
        // is refused rather than stored in a form that another spelling would not match.
        if national.starts_with('0') {
            let again = read(None, &e164)
                .ok()
                .map(|c| format!("+{}{}", c.number.code().value(), c.number.national()));
            if again.as_deref() != Some(e164.as_str()) {
                return Err(PhoneError::NotInNumberingPlan);
            }
        }
        Ok(Self {
            e164,
            country_code,
            extension: number.extension().map(|x| x.to_string()),
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

    /// The type of line, where the metadata tells (`None` when it does not).
    pub fn number_type(&self) -> Option<NumberType> {
        self.kind
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
    number: &phonenumber::PhoneNumber,
) -> bool {
    let body = match input.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => input.get(4..).unwrap_or(""),
        _ => input,
    };
    let Some(first_letter) = body.find(char::is_alphabetic) else {
        return true;
    };
    let main = body.get(..first_letter).unwrap_or("");
    read(region, main)
        .is_ok_and(|m| m.number.code() == number.code() && m.number.national() == number.national())
}

/// `phonenumber::parse` with the crate's errors mapped to ours.
fn parse_raw(region: Option<Region>, input: &str) -> Result<phonenumber::PhoneNumber, PhoneError> {
    use phonenumber::ParseError as P;
    phonenumber::parse(region.map(|r| r.0), input).map_err(|e| match e {
        P::InvalidCountryCode => PhoneError::InvalidCountryCode,
        P::TooShortAfterIdd | P::TooShortNsn => PhoneError::TooShort,
        P::TooLong => PhoneError::TooLong,
        P::NoNumber | P::MalformedInteger(_) => PhoneError::NotANumber,
    })
}

/// A number as read, with its type and validity, each looked up once.
struct Checked {
    number: phonenumber::PhoneNumber,
    /// The line type, where the metadata gives one.
    kind: Option<NumberType>,
    /// Valid in its country's plan: a type was found, or `phonenumber`'s validity check
    /// passes. `phonenumber` 0.3.10 looks the type up without the national number's leading
    /// zeros (Italy's `02…`), where its validity check keeps them: a number it finds valid
    /// but of no type is valid, type unknown. Without leading zeros the two look-ups are the
    /// same one (same digits, same metadata), so only a number of no type with leading zeros
    /// pays for the second.
    valid: bool,
}

impl Checked {
    fn of(number: phonenumber::PhoneNumber) -> Self {
        let kind = NumberType::from_metadata(number.number_type(&DATABASE));
        let valid = kind.is_some() || (number.national().zeros() > 0 && number.is_valid());
        Self {
            number,
            kind,
            valid,
        }
    }
}

/// A first reading of an input, and the digits to read again as written when that reading
/// is not valid (see [`read_as_written`]).
struct Reading {
    number: phonenumber::PhoneNumber,
    /// A country code and national number, nothing stripped, and the extension.
    as_written: Option<(String, Option<String>)>,
}

impl Reading {
    fn only(number: phonenumber::PhoneNumber) -> Self {
        Self {
            number,
            as_written: None,
        }
    }
}

/// Reads `input` ([`parse_in`]) and checks the reading; when it is not valid, the reading as
/// written, if that one is valid. A valid first reading (the usual case) costs one type
/// look-up in the metadata.
fn read(region: Option<Region>, input: &str) -> Result<Checked, PhoneError> {
    let Reading { number, as_written } = parse_in(region, input)?;
    let first = Checked::of(number);
    if first.valid {
        return Ok(first);
    }
    // Read again only if the first reading dropped digits: otherwise it is the same number.
    let read = format!("{}{}", first.number.code().value(), first.number.national());
    Ok(as_written
        .filter(|(digits, _)| *digits != read)
        .and_then(|(digits, ext)| read_as_written(&digits, ext.as_deref()))
        .map(Checked::of)
        .filter(|again| again.valid)
        .unwrap_or(first))
}

/// Parses an international number, `rest` following its `+`.
///
/// `phonenumber` 0.3.10 reads `+` directly followed by digits and `-` as an RFC 3966
/// global number and then misreads the country code (`+1415-555-0123`: "invalid country
/// code"; `+1415555-0123`: "not a number"), where a space after the `+` takes its natural
/// parser. So `+ ` is tried first, unless the number has RFC 3966 parameters (`;ext=`); the
/// other form if the first fails.
///
/// `phonenumber` 0.3.10 also strips the country's national prefix after the country code
/// whenever what is left is not too short for the plan (`+7 816 155 03 23` loses Russia's
/// trunk `8` and is left with 9 digits, of an invalid length), where libphonenumber strips
/// it only when what is left is a possible length: the digits as written go with the reading.
fn parse_plus(rest: &str) -> Result<Reading, PhoneError> {
    let spaced = format!("+ {rest}");
    let plain = format!("+{rest}");
    let (first, second) = if rest.contains(';') {
        (plain, spaced)
    } else {
        (spaced, plain)
    };
    let number = parse_raw(None, &first).or_else(|e| parse_raw(None, &second).map_err(|_| e))?;
    let as_written = digits_and_extension(rest, &number);
    Ok(Reading {
        number,
        as_written: Some(as_written),
    })
}

/// The ASCII digits of `input` without those of `number`'s extension (the input's last
/// digits), and the extension.
fn digits_and_extension(
    input: &str,
    number: &phonenumber::PhoneNumber,
) -> (String, Option<String>) {
    let mut digits: String = input.chars().filter(char::is_ascii_digit).collect();
    let ext = number.extension().map(|x| x.to_string());
    if let Some(ext) = &ext {
        digits.truncate(digits.len().saturating_sub(ext.len()));
    }
    (digits, ext)
}

/// `digits` (a country code and a national number, nothing stripped) read as written: through
/// Denmark's international prefix `00` (Denmark has no national prefix, so `phonenumber`
/// strips nothing from the national number), when that reading keeps every digit. [`read`]
/// keeps it only if it is valid in the country's plan.
fn read_as_written(digits: &str, ext: Option<&str>) -> Option<phonenumber::PhoneNumber> {
    let mut input = format!("00{digits}");
    if let Some(ext) = ext {
        input.push_str(" ext ");
        input.push_str(ext);
    }
    parse_raw(Some(Region(Id::DK)), &input)
        .ok()
        .filter(|n| format!("{}{}", n.code().value(), n.national()) == digits)
}

/// Parses `input` (ASCII digits) with the default region used for national numbers only.
///
/// `phonenumber` 0.3.10 strips the *default region's* national prefix from a number that
/// carries its own country code (`+39 02 3661 8300` in `FR` loses the `0` of Milan's area
/// code), where libphonenumber uses the number's own country. So a number with `+` is
/// parsed without a region, and one with the region's international prefix (`00`, `011`)
/// is rewritten with `+` and parsed without a region.
fn parse_in(region: Option<Region>, input: &str) -> Result<Reading, PhoneError> {
    use phonenumber::country::Source;
    let Some(r) = region else {
        return match input.trim_start().strip_prefix(['+', '\u{FF0B}']) {
            Some(rest) => parse_plus(rest),
            None => parse_raw(None, input).map(Reading::only),
        };
    };
    if let Some(rest) = input.trim_start().strip_prefix(['+', '\u{FF0B}']) {
        return parse_plus(rest);
    }
    let number = parse_raw(Some(r), input)?;
    if number.code().source() != Source::Idd {
        // A national number: `phonenumber` 0.3.10 can strip the national prefix twice
        // (Russia's `8 816 155 03 23` loses both `8`s). As written: the prefix stripped once.
        let Some(meta) = DATABASE.by_id(r.as_str()) else {
            return Ok(Reading::only(number));
        };
        let (national, ext) = digits_and_extension(input, &number);
        let national = meta
            .national_prefix()
            .and_then(|prefix| national.strip_prefix(prefix))
            .unwrap_or(&national);
        let digits = format!("{}{national}", meta.country_code());
        return Ok(Reading {
            number,
            as_written: Some((digits, ext)),
        });
    }
    // The international prefix, then the country code and national number, then any
    // extension's digits (the last ones of the input).
    let (digits, ext) = digits_and_extension(input, &number);
    let idd_end = DATABASE
        .by_id(r.as_str())
        .and_then(|meta| meta.international_prefix())
        .and_then(|idd| idd.find(&digits))
        .filter(|m| m.start() == 0)
        .map(|m| m.end())
        .ok_or(PhoneError::NotANumber)?;
    // When the input's digits are exactly the prefix, the country code and the national
    // number read, nothing was stripped between them: the first reading stands.
    let expected = format!("{}{}", number.code().value(), number.national());
    if digits.get(idd_end..) == Some(expected.as_str()) {
        return Ok(Reading::only(number));
    }
    let rest = digits.get(idd_end..).ok_or(PhoneError::NotANumber)?;
    let mut international = rest.to_owned();
    if let Some(ext) = ext {
        international.push_str(" ext ");
        international.push_str(&ext);
    }
    parse_plus(&international)
}

/// Why a number of a known country is not valid: its length against the plan's lengths.
fn invalid_reason(meta: &phonenumber::Metadata, national: &str) -> PhoneError {
    // The crate leaves the general descriptor's lengths empty: take every type's.
    let d = meta.descriptors();
    let lengths: Vec<u16> = [
        Some(d.general()),
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
    .flat_map(|desc| desc.possible_length().iter().copied())
    .collect();
    let len = u16::try_from(national.len()).unwrap_or(u16::MAX);
    match (lengths.iter().min(), lengths.iter().max()) {
        (Some(&min), _) if len < min => PhoneError::TooShort,
        (_, Some(&max)) if len > max => PhoneError::TooLong,
        _ => PhoneError::NotInNumberingPlan,
    }
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
