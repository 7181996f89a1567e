//! Phone numbers in a payload's strings: under phone-like member names, and in free text,
//! validated with libphonenumber's metadata (`palisade-sanitize`'s `PhoneNumber`), or of the
//! international shape when the metadata does not know them.

use std::sync::LazyLock;

use palisade_pii::Masked;
use palisade_sanitize::phone::{PhoneError, PhoneNumber, Region};

/// Object keys whose digits-only values are phone numbers (WhatsApp sends `wa_id`,
/// `display_phone_number` and `from` without the `+`).
const PHONE_KEYS: [&str; 9] = [
    "wa_id",
    "display_phone_number",
    "from",
    "to",
    "phone",
    "phone_number",
    "phonenumber",
    "number",
    "msisdn",
];

/// A phone number found in a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// Valid in libphonenumber's metadata: blind-indexed, so events can be looked up by it.
    Valid(PhoneNumber),
    /// Of the shape of one only (`+` and its digits): a range newer than the metadata, masked
    /// and encrypted all the same.
    Shaped(String),
}

impl Found {
    /// The E.164 form.
    pub(crate) fn e164(&self) -> &str {
        match self {
            Self::Valid(number) => number.e164(),
            Self::Shaped(e164) => e164,
        }
    }
}

/// A string of a payload (`name`: the member it is under) with every phone number replaced
/// by its mask, collecting the numbers in `found`; `None` when it has none.
pub(crate) fn scrub(name: Option<&str>, s: &str, found: &mut Vec<Found>) -> Option<String> {
    if let Some(phone) = name.and_then(|k| keyed_phone(k, s)) {
        let masked = Masked::phone(phone.e164()).to_string();
        found.push(phone);
        return Some(masked);
    }
    replace_phones(s, found)
}

/// A phone number under a phone-like key, in E.164: a valid number as written (national
/// numbers in [`DEFAULT_REGION`]), or written without its `+` (WhatsApp's `wa_id`); otherwise,
/// when the value has the shape of one (8 to 15 digits with phone formatting), `+` and its
/// digits, so that a number the metadata does not know is masked rather than kept.
fn keyed_phone(key: &str, value: &str) -> Option<Found> {
    // PHONE_KEYS are lower-case ASCII: no lower-cased copy of every key is needed.
    if !PHONE_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
        return None;
    }
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let formatting = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !formatting || !(8..=15).contains(&digits.len()) {
        return None;
    }
    valid_phone(value)
        .or_else(|| valid_phone(&format!("+{digits}")))
        .map(Found::Valid)
        .or_else(|| (!digits.starts_with('0')).then(|| Found::Shaped(format!("+{digits}"))))
}

/// The region assumed for numbers written without a country code (`(415) 555-0123`); numbers
/// of other regions are found in their international form (`+44 20 7946 0958`).
static DEFAULT_REGION: LazyLock<Option<Region>> = LazyLock::new(|| Region::new("US").ok());

/// The fewest and most digits of a candidate (E.164 allows 15, plus a trunk or
/// international prefix).
const CANDIDATE_DIGITS: std::ops::RangeInclusive<usize> = 7..=17;

/// The most digit groups of a candidate (`+33 1 23 45 67 89` has 6).
const MAX_GROUPS: usize = 6;

/// The longest candidate, in bytes.
const MAX_CANDIDATE_LEN: usize = 32;

/// The characters a phone number is written with: digits, the `+` of the international
/// form, and the separators libphonenumber accepts between groups (ASCII ones only).
fn is_phone_byte(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'+' | b' ' | b'-' | b'.' | b'(' | b')')
}

/// A character that glues a number to a word (`a+1202…`, `evt_3…`, `2024-01-01T…`).
fn is_glue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `candidate` is a calendar date in ISO 8601's extended form, `YYYY-MM-DD` (month
/// 01–12, day 01–31): Stripe's `api_version` and the date fields of most payloads. Such a
/// string is a date, never a phone number, though libphonenumber would read a few as one
/// (`1310-12-31` is `+1 310-1231`, a Canadian UAN number, national prefix included); and it
/// is not parsed, which a date of another shape, refused by libphonenumber, costs.
fn is_calendar_date(candidate: &str) -> bool {
    let b = candidate.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r)
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .map(|d| d.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    b.len() == 10
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && digits(0..4).is_some()
        && digits(5..7).is_some_and(|m| (1..=12).contains(&m))
        && digits(8..10).is_some_and(|d| (1..=31).contains(&d))
}

/// `candidate` when it is a phone number valid per libphonenumber's metadata
/// ([`PhoneNumber::parse`], national numbers in [`DEFAULT_REGION`]).
fn valid_phone(candidate: &str) -> Option<PhoneNumber> {
    PhoneNumber::parse(candidate, Some((*DEFAULT_REGION)?)).ok()
}

/// `candidate` in E.164 when it is a phone number: valid in libphonenumber's metadata
/// ([`PhoneNumber::parse`], national numbers in [`DEFAULT_REGION`]), or written in the
/// international form (`+` and a country code libphonenumber knows) with 8 to 15 digits, so
/// that a number of a range newer than the metadata is masked rather than kept in clear.
fn phone_in(candidate: &str) -> Option<Found> {
    match PhoneNumber::parse(candidate, Some((*DEFAULT_REGION)?)) {
        Ok(phone) => Some(Found::Valid(phone)),
        // A country code libphonenumber knows (refusals of numbers it could not place, or
        // could not read, are the other variants).
        Err(PhoneError::TooShort | PhoneError::TooLong | PhoneError::NotInNumberingPlan)
            if candidate.trim_start_matches('(').starts_with('+') =>
        {
            let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
            ((8..=15).contains(&digits.len()) && !digits.starts_with('0'))
                .then(|| Found::Shaped(format!("+{digits}")))
        }
        Err(_) => None,
    }
}

/// The phone numbers of free text: byte ranges of `s` and their E.164 form.
///
/// The text is cut into spans of digits, `+` and separators; within a span, digit groups are
/// tried from the left, the longest candidate first (at most [`MAX_GROUPS`] groups,
/// [`CANDIDATE_DIGITS`] digits), each checked by [`phone_in`]. A span glued to a word
/// (`a+12025550143`, `2024-01-01T`) holds no number, nor does a calendar date
/// ([`is_calendar_date`]; libphonenumber's matcher leaves out slash-separated dates and time
/// stamps, `2024-06-20 16`, for the same reason), and a candidate is separated from the groups around it by a space, as libphonenumber's matcher
/// does not cut a number out of a longer run either. That matcher (`PhoneNumberMatcher`, which
/// `rlibphonenumber` ports) finds valid numbers only; this scan also masks a number of the
/// international shape that the metadata does not know.
fn find_phones(s: &str) -> Vec<(std::ops::Range<usize>, Found)> {
    let bytes = s.as_bytes();
    // Every candidate holds at least `CANDIDATE_DIGITS.start()` digits of `s`: most strings of
    // a payload have fewer, and are done with here.
    let min = *CANDIDATE_DIGITS.start();
    if bytes
        .iter()
        .filter(|b| b.is_ascii_digit())
        .take(min)
        .count()
        < min
    {
        return Vec::new();
    }
    let mut spans = Vec::new();
    let mut start = None;
    for (i, b) in bytes.iter().enumerate() {
        if is_phone_byte(*b) {
            start.get_or_insert(i);
        } else if let Some(from) = start.take() {
            spans.push(from..i);
        }
    }
    if let Some(from) = start {
        spans.push(from..bytes.len());
    }
    let mut out = Vec::new();
    for span in spans {
        // Span bytes are ASCII, so every index below is a char boundary.
        let text = |r: std::ops::Range<usize>| s.get(r).unwrap_or_default();
        let glued_before = s
            .get(..span.start)
            .and_then(|before| before.chars().next_back())
            .is_some_and(is_glue);
        let glued_after = s
            .get(span.end..)
            .and_then(|after| after.chars().next())
            .is_some_and(is_glue);
        let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
        let mut group_start = None;
        for i in span.clone() {
            let digit = bytes.get(i).is_some_and(u8::is_ascii_digit);
            match (digit, group_start) {
                (true, None) => group_start = Some(i),
                (false, Some(from)) => {
                    groups.push(from..i);
                    group_start = None;
                }
                _ => {}
            }
        }
        if let Some(from) = group_start {
            groups.push(from..span.end);
        }
        // A span glued to a word is part of an identifier (`a+12025550143`, `2024-01-01T…`,
        // `13345224609.738474920.80889d…`), not a phone number.
        let glued_before = glued_before
            && groups
                .first()
                .is_some_and(|g| matches!(text(span.start..g.start), "" | "+"));
        let glued_after = glued_after && groups.last().is_some_and(|g| g.end == span.end);
        if glued_before || glued_after {
            continue;
        }
        // A candidate is not cut out of groups joined by punctuation alone (`415-555-0123-99`,
        // `13345224609.738474920`): a space separates it from the groups around it.
        let spaced = |from: Option<&std::ops::Range<usize>>,
                      to: Option<&std::ops::Range<usize>>| {
            match (from, to) {
                (Some(from), Some(to)) => text(from.end..to.start).contains(' '),
                _ => true,
            }
        };
        let mut i = 0;
        while let Some(first) = groups.get(i) {
            if !spaced(i.checked_sub(1).and_then(|p| groups.get(p)), Some(first)) {
                i += 1;
                continue;
            }
            // The candidate starts at its first group, or at the `+` / `(` right before it.
            let mut from = first.start;
            while from > span.start && matches!(bytes.get(from - 1), Some(b'+' | b'(')) {
                from -= 1;
            }
            let found = groups
                .iter()
                .enumerate()
                .skip(i)
                .take(MAX_GROUPS)
                .rev()
                .find_map(|(j, last)| {
                    if !spaced(Some(last), groups.get(j + 1)) {
                        return None;
                    }
                    let candidate = text(from..last.end);
                    let digits = candidate.bytes().filter(u8::is_ascii_digit).count();
                    let plus_inside = candidate.trim_start_matches(['(', '+']).contains('+');
                    if plus_inside
                        || candidate.len() > MAX_CANDIDATE_LEN
                        || !CANDIDATE_DIGITS.contains(&digits)
                        || is_calendar_date(candidate)
                    {
                        return None;
                    }
                    phone_in(candidate).map(|phone| (j, from..last.end, phone))
                });
            match found {
                Some((j, range, phone)) => {
                    out.push((range, phone));
                    i = j + 1;
                }
                None => i += 1,
            }
        }
    }
    out
}

/// Replaces every phone number of the free text `s` ([`find_phones`]) by its mask; `None`
/// when there is none.
fn replace_phones(s: &str, found: &mut Vec<Found>) -> Option<String> {
    let phones = find_phones(s);
    if phones.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for (range, phone) in phones {
        out.push_str(s.get(copied..range.start).unwrap_or_default());
        out.push_str(&Masked::phone(phone.e164()).to_string());
        found.push(phone);
        copied = range.end;
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    /// The E.164 forms of what was found.
    fn e164s(found: &[Found]) -> Vec<&str> {
        found.iter().map(Found::e164).collect()
    }

    fn keyed(key: &str, value: &str) -> Option<String> {
        keyed_phone(key, value).map(|f| f.e164().to_owned())
    }

    #[test]
    fn finds_phones_in_text_and_keys() {
        let mut found = Vec::new();
        let out = replace_phones("whatsapp:+12025550143 and +14155550142.", &mut found).unwrap();
        assert_eq!(e164s(&found), ["+12025550143", "+14155550142"]);
        assert!(
            !out.contains("5550143") && !out.contains("5550142"),
            "{out}"
        );
        assert!(replace_phones("2024-01-01T00:00:00+00:00 a+12025550143", &mut found).is_none());
        assert_eq!(
            keyed("wa_id", "16505551234").as_deref(),
            Some("+16505551234")
        );
        assert_eq!(keyed("id", "16505551234"), None);
        assert_eq!(keyed("from", "client:alice"), None);
    }

    /// (text, the numbers in it in E.164): several formats and countries.
    const WRITTEN: [(&str, &[&str]); 10] = [
        ("Call +1 415 555 0123", &["+14155550123"]),
        ("call me at (415) 555-0123 today", &["+14155550123"]),
        ("London office: +44 20 7946 0958.", &["+442079460958"]),
        (
            "Paris +33 1 23 45 67 89, Berlin +49 30 901820",
            &["+33123456789", "+4930901820"],
        ),
        ("Sydney (+61 2 9876 5432)", &["+61298765432"]),
        (
            "415.555.0123 or +1-212-555-0187",
            &["+14155550123", "+12125550187"],
        ),
        (
            "Tel: +1 (312) 555-0199; fax 312 555 0100",
            &["+13125550199", "+13125550100"],
        ),
        ("Mumbai +91 98765 43210", &["+919876543210"]),
        ("+81 3-1234-5678 (Tokyo)", &["+81312345678"]),
        (
            "numbers 415 555 0123 212 555 0187",
            &["+14155550123", "+12125550187"],
        ),
    ];

    #[test]
    fn finds_phones_written_with_separators() {
        for (text, expected) in WRITTEN {
            let mut found = Vec::new();
            let out = replace_phones(text, &mut found)
                .unwrap_or_else(|| panic!("no phone found in {text:?}"));
            assert_eq!(e164s(&found), expected, "{text:?} -> {out:?}");
            for phone in expected {
                let masked = Masked::phone(phone).to_string();
                assert!(out.contains(&masked), "{text:?} -> {out:?}");
                // No run of the number's middle digits is left in clear.
                let middle = phone.get(3..phone.len() - 4).unwrap();
                let digits: String = out.chars().filter(char::is_ascii_digit).collect();
                assert!(!digits.contains(middle), "{text:?} -> {out:?}");
            }
        }
    }

    /// A number in the international form that the metadata does not know as valid (a range
    /// newer than it, or a typo) is masked all the same, without a blind index; one whose
    /// country code no country has is left as it is.
    #[test]
    fn international_shapes_outside_the_metadata_are_masked() {
        let mut found = Vec::new();
        // `+1 555`: ten digits of the NANP's length, 555 is no area code in service.
        let out = replace_phones("call +1 555 234 5678 now", &mut found).unwrap();
        assert_eq!(e164s(&found), ["+15552345678"]);
        assert!(matches!(found.as_slice(), [Found::Shaped(_)]), "{out}");
        assert!(!out.contains("234 5678"), "{out}");
        // `+999`: a country code no country has.
        assert_eq!(replace_phones("ticket +999 1234 5678", &mut found), None);
    }

    #[test]
    fn leaves_numbers_that_are_not_phones() {
        for text in [
            "Order 1234567890 shipped on 2024-06-01",
            "invoice 12345678, due 06/01/2024",
            "gid://shopify/Order/820982911946154508",
            "total 1,234.56 USD at 1717243200",
            "evt_3MtwBwLkdIwHu7ix28a3tqPa from 192.168.100.200",
            "2024-06-20T16:58:41-04:00 v10.2.3",
            "tracking 1Z 999 AA1 0123 4567 84",
            "order 123-456-7890",
            // Slack's trigger_id: a valid US number (1 334 522 4609) inside an identifier.
            "13345224609.738474920.8088930838d88f008e0",
            "ref 4155550123-01 and 4155550123.5",
            // A date libphonenumber reads as a number (national prefix 1, Canadian UAN
            // 310-1231), and dates in a field of their own.
            "founded 1310-12-31",
            "2024-06-20",
        ] {
            let mut found = Vec::new();
            assert_eq!(
                replace_phones(text, &mut found),
                None,
                "{text:?}: {found:?}"
            );
        }
    }

    #[test]
    fn calendar_dates_are_not_candidates() {
        for date in ["2024-06-20", "1310-12-31", "0000-01-01", "9999-12-31"] {
            assert!(is_calendar_date(date), "{date}");
        }
        for other in [
            "2024-13-20",
            "2024-06-32",
            "2024-00-10",
            "2024-06-00",
            "2024-6-20",
            "202-406-2000",
            "2024.06.20",
            "2024-06-20 ",
            "(024-06-20",
            "2024-06-2x",
        ] {
            assert!(!is_calendar_date(other), "{other}");
        }
        // The reading this rule overrides: libphonenumber takes this date for a number.
        assert!(valid_phone("1310-12-31").is_some());
    }

    #[test]
    fn keyed_phones_are_normalized_with_their_region() {
        // A national number under a phone key is the default region's, not `+` its digits.
        assert_eq!(
            keyed("phone", "(415) 555-0123").as_deref(),
            Some("+14155550123")
        );
        assert_eq!(
            keyed("wa_id", "447700900123").as_deref(),
            Some("+447700900123")
        );
        // A number the metadata does not know is still masked under a phone key.
        assert_eq!(
            keyed("display_phone_number", "15550783881").as_deref(),
            Some("+15550783881")
        );
    }

    /// Candidates are short strings of digits and separators: the parser must answer every one
    /// of them, whatever the mix.
    #[test]
    fn any_mix_of_digits_and_separators_is_handled() {
        const ALPHABET: &[u8] = b"0123456789+ -.()1";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2_000 {
            let mut text = String::new();
            for _ in 0..24 {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let pick = usize::try_from(state >> 59).unwrap() % ALPHABET.len();
                text.push(char::from(ALPHABET[pick]));
            }
            let mut found = Vec::new();
            if let Some(out) = replace_phones(&text, &mut found) {
                assert!(!found.is_empty(), "{text:?}");
                assert!(out.contains('*'), "{text:?} -> {out:?}");
            }
        }
    }
}
