//! Phone numbers against libphonenumber's own test cases and real metadata.
//!
//! Sources (google/libphonenumber at commit f7e3e88c92b905c8d6edb81f336dbe25edc05b52):
//!
//! - `java/libphonenumber/test/com/google/i18n/phonenumbers/PhoneNumberUtilTest.java`
//!   (`PNUT` below, with its line): input forms and their expected numbers. That file runs on
//!   libphonenumber's *test* metadata (`PhoneNumberMetadataForTesting.xml`); the `rlibphonenumber`
//!   crate bundles the *real* metadata (`PhoneNumberMetadata.xml`), so only the cases whose
//!   numbers are also valid (or equally invalid) in the real metadata are copied here.
//! - `resources/PhoneNumberMetadata.xml` (`META` below): the `exampleNumber` of each type of
//!   the CA, US, FR, DZ and GB territories, which libphonenumber's own
//!   `ExampleNumbersTest` requires to be valid and of that type.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_sanitize::phone::{NumberType, PhoneError, PhoneNumber, Region};

fn region(code: &str) -> Option<Region> {
    Some(Region::new(code).unwrap())
}

fn e164(input: &str, r: Option<&str>) -> String {
    PhoneNumber::parse(input, r.and_then(region))
        .unwrap_or_else(|e| panic!("{input:?} in {r:?}: {e}"))
        .into_e164()
}

/// META: example numbers, written nationally with the region, internationally without.
#[test]
fn real_metadata_example_numbers_by_region_and_type() {
    use NumberType::*;
    let cases = [
        // (region, national form, E.164, type)
        ("CA", "(506) 234-5678", "+15062345678", FixedLineOrMobile),
        ("CA", "1-800-212-3456", "+18002123456", TollFree),
        ("CA", "900 212 3456", "+19002123456", PremiumRate),
        ("US", "201-555-0123", "+12015550123", FixedLineOrMobile),
        ("US", "(800) 234-5678", "+18002345678", TollFree),
        ("US", "900.234.5678", "+19002345678", PremiumRate),
        ("FR", "01 23 45 67 89", "+33123456789", FixedLine),
        ("FR", "06 12 34 56 78", "+33612345678", Mobile),
        ("FR", "0801 23 45 67", "+33801234567", TollFree),
        ("FR", "0891 12 34 56", "+33891123456", PremiumRate),
        ("DZ", "012 34 56 78", "+21312345678", FixedLine),
        ("DZ", "0551 23 45 67", "+213551234567", Mobile),
        ("DZ", "0800 12 34 56", "+213800123456", TollFree),
        ("GB", "0121 234 5678", "+441212345678", FixedLine),
        ("GB", "07400 123456", "+447400123456", Mobile),
        ("GB", "0800 123 4567", "+448001234567", TollFree),
        ("GB", "0901 234 5678", "+449012345678", PremiumRate),
    ];
    for (r, national, want, kind) in cases {
        let n = PhoneNumber::parse(national, region(r)).unwrap();
        assert_eq!(n.e164(), want, "{national} in {r}");
        assert_eq!(n.number_type(), Some(kind), "{national} in {r}");
        assert_eq!(n.extension(), None);
        // The E.164 form parses to itself, with any region or none.
        assert_eq!(e164(want, None), want);
        assert_eq!(e164(want, Some("DZ")), want);
    }
}

/// PNUT: the same number in many written forms.
#[test]
fn libphonenumber_parse_forms() {
    let cases = [
        // US_NUMBER = +1 650 253 0000
        ("+1 (650) 253-0000", Some("NZ"), "+16502530000"), // PNUT 2225
        ("1-650-253-0000", Some("US"), "+16502530000"),    // PNUT 2227
        ("1 (650) 253\u{AD}-0000", Some("US"), "+16502530000"), // PNUT 2245, soft hyphen
        // PNUT 2247: full-width plus, digits, parentheses and ideographic spaces.
        (
            "\u{FF0B}\u{FF11}\u{3000}\u{FF08}\u{FF16}\u{FF15}\u{FF10}\u{FF09}\u{3000}\u{FF12}\u{FF15}\u{FF13}\u{FF0D}\u{FF10}\u{FF10}\u{FF10}\u{FF10}",
            Some("SE"),
            "+16502530000",
        ),
        // NZ_NUMBER = +64 3 331 6005
        ("033316005", Some("NZ"), "+6433316005"), // PNUT 2104
        ("03-331 6005", Some("NZ"), "+6433316005"), // PNUT 2111
        ("0064 3 331 6005", Some("NZ"), "+6433316005"), // PNUT 2131: IDD 00
        ("01164 3 331 6005", Some("US"), "+6433316005"), // PNUT 2134: IDD 011
        ("+64 3 331 6005", Some("US"), "+6433316005"), // PNUT 2135
        ("tel:+64-3-331-6005;isub=12345", Some("NZ"), "+6433316005"), // PNUT 2126
        // GB
        ("+442087654321", Some("GB"), "+442087654321"), // PNUT 1038
        // IT_NUMBER = +39 02 3661 8300: the Italian leading zero is kept.
        ("+39 02-36618 300", Some("NZ"), "+390236618300"), // PNUT 2262
    ];
    for (input, r, want) in cases {
        assert_eq!(e164(input, r), want, "{input:?} in {r:?}");
    }
    // PNUT IT_MOBILE (+39 345 678 901) and IT_NUMBER, typed (the `phonenumber` crate this
    // module used before dropped the leading zero in its type lookup, and typed neither).
    let it = PhoneNumber::parse("+39 345 678 901", None).unwrap();
    assert_eq!(it.number_type(), Some(NumberType::Mobile));
    let it = PhoneNumber::parse("+39 02-36618 300", None).unwrap();
    assert_eq!(it.number_type(), Some(NumberType::FixedLine));
}

/// PNUT 2628-2680: extensions are read and kept apart from the E.164 form.
#[test]
fn libphonenumber_extensions_kept_apart() {
    let cases = [
        ("03 331 6005 ext 3456", "NZ", "+6433316005", "3456"), // PNUT 2628
        ("03-3316005x3456", "NZ", "+6433316005", "3456"),      // PNUT 2629
        ("+44 2034567890x456", "GB", "+442034567890", "456"),  // PNUT 2645
        ("+44 2034567890 X 456", "GB", "+442034567890", "456"), // PNUT 2648
        ("+44-2034567890;ext=456", "GB", "+442034567890", "456"), // PNUT 2652
        ("(800) 901-3355 x 7246433", "US", "+18009013355", "7246433"), // PNUT 2667
        (
            "(800) 901-3355 ext: 7246433",
            "US",
            "+18009013355",
            "7246433",
        ), // PNUT 2680
    ];
    for (input, r, want, ext) in cases {
        let n = PhoneNumber::parse(input, region(r)).unwrap();
        assert_eq!(n.e164(), want, "{input}");
        assert_eq!(n.extension(), Some(ext), "{input}");
        assert_eq!(n.to_string(), want, "Display has no extension");
    }
}

/// PNUT 1294-1319, 2328-2420, 2994: refusals, typed.
#[test]
fn libphonenumber_invalid_numbers_are_typed_errors() {
    let cases: [(&str, Option<&str>, &[PhoneError]); 13] = [
        // PNUT 2335-2365: sentences and words.
        (
            "This is not a phone number",
            Some("NZ"),
            &[PhoneError::NotANumber],
        ),
        (
            "1 Still not a number",
            Some("NZ"),
            &[PhoneError::NotANumber],
        ),
        ("+---", Some("DE"), &[PhoneError::NotANumber]),
        ("+***", Some("DE"), &[PhoneError::NotANumber]),
        // PNUT 2633: a keypad-letter number (libphonenumber reads it as +1 800 749 35247);
        // refused here, and so is a letter O typed for a zero.
        ("1800 six-flags", Some("US"), &[PhoneError::NotANumber]),
        ("+1 438 900 74O9", None, &[PhoneError::NotANumber]),
        // PNUT 2405 "+49 0": too short.
        (
            "+49 0",
            Some("DE"),
            &[PhoneError::NotANumber, PhoneError::TooShort],
        ),
        // PNUT 2375 "01495 72553301873 810104": too long.
        (
            "01495 72553301873 810104",
            Some("GB"),
            &[PhoneError::TooLong],
        ),
        // PNUT 2415 "+210 3456 56789": no such country code.
        (
            "+210 3456 56789",
            Some("NZ"),
            &[PhoneError::InvalidCountryCode],
        ),
        // PNUT 1294 US_LOCAL_NUMBER (253 0000): a local number, no area code.
        ("253-0000", Some("US"), &[PhoneError::TooShort]),
        // US_SHORT_BY_ONE_NUMBER (+1 650 253 000) and US_LONG_NUMBER (+1 650 253 00001).
        ("+1 650 253 000", None, &[PhoneError::TooShort]),
        ("+1 650 253 00001", None, &[PhoneError::TooLong]),
        // PNUT 1319 INTERNATIONAL_TOLL_FREE_TOO_LONG (+800 123456789).
        ("+800 123456789", None, &[PhoneError::TooLong]),
    ];
    for (input, r, allowed) in cases {
        let got = PhoneNumber::parse(input, r.and_then(region)).unwrap_err();
        assert!(
            allowed.contains(&got),
            "{input:?}: {got:?}, expected one of {allowed:?}"
        );
    }
}

#[test]
fn numbering_plan_is_checked_not_just_length() {
    // +1 555 …: ten digits, the NANP's length, but 555 is not an area code in service.
    assert_eq!(
        PhoneNumber::parse("+1 555 234 5678", None),
        Err(PhoneError::NotInNumberingPlan)
    );
    // A national number without a region cannot be placed.
    assert!(PhoneNumber::parse("(415) 555-0123", None).is_err());
    // The seeds' `\+1\d{10}` would take this; the NANP has no area code 099.
    assert!(PhoneNumber::parse("+10995550123", None).is_err());
}

#[test]
fn unicode_digits_are_read() {
    // Arabic-Indic (U+0660…), Extended Arabic-Indic (U+06F0…), Devanagari (U+0966…).
    assert_eq!(e164("٠٦ ١٢ ٣٤ ٥٦ ٧٨", Some("FR")), "+33612345678");
    assert_eq!(e164("+٢١٣ ٥٥١ ٢٣ ٤٥ ٦٧", None), "+213551234567");
    assert_eq!(e164("۰۵۵۱ ۲۳ ۴۵ ۶۷", Some("DZ")), "+213551234567");
    assert_eq!(e164("+४४ २०७० ३१३ ०००", None), "+442070313000");
    assert_eq!(palisade_sanitize::phone::ascii_digit('٩'), Some('9'));
    assert_eq!(palisade_sanitize::phone::ascii_digit('a'), None);
    assert_eq!(palisade_sanitize::phone::ascii_digit('½'), None);
}

#[test]
fn international_prefixes_of_the_default_region() {
    for (input, r) in [
        ("001 415 555 0123", "GB"),
        ("00 1 415 555 0123", "FR"),
        ("00 1 (415) 555-0123", "DZ"),
        ("011 1 415 555 0123", "US"),
        ("011 1 415 555 0123", "CA"),
        ("+1 415 555 0123", "FR"),
    ] {
        assert_eq!(e164(input, Some(r)), "+14155550123", "{input} in {r}");
    }
}

#[test]
fn regions() {
    assert_eq!(Region::new("ca").unwrap().as_str(), "CA");
    assert_eq!(format!("{:?}", Region::new("fr").unwrap()), "Region(FR)");
    assert_eq!("GB".parse::<Region>().unwrap().to_string(), "GB");
    for bad in ["", "C", "CAN", "ZZ", "1A", "é", "XX"] {
        assert_eq!(Region::new(bad), Err(PhoneError::UnknownRegion), "{bad}");
    }
}

#[test]
fn input_length_bounded_and_debug_masked() {
    let long = format!("+1 415 555 0123{}", " ".repeat(300));
    assert_eq!(
        PhoneNumber::parse(&long, None),
        Err(PhoneError::InputTooLong)
    );
    // The limit is 256 bytes: exactly 256 is parsed (the spaces are punctuation).
    let at_limit = format!("+1 415 555 0123{}", " ".repeat(256 - 15));
    assert_eq!(at_limit.len(), 256);
    assert_eq!(e164(&at_limit, None), "+14155550123");
    assert_eq!(
        PhoneNumber::parse(&format!("{at_limit} "), None),
        Err(PhoneError::InputTooLong)
    );
    let n: PhoneNumber = "+14155550123".parse().unwrap();
    let debug = format!("{n:?}");
    assert!(!debug.contains("4155550123"), "{debug}");
    assert!(debug.contains("23"), "{debug}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Parsing never panics, and whatever it accepts is E.164 that parses to itself.
        #[test]
        fn parse_total_and_e164_is_a_fixed_point(s in "\\PC{0,40}", r in prop::sample::select(vec!["CA", "US", "FR", "DZ", "GB"])) {
            if let Ok(n) = PhoneNumber::parse(&s, region(r)) {
                let e = n.e164();
                prop_assert!(e.starts_with('+'));
                prop_assert!(e.len() <= 16 && e[1..].bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!(PhoneNumber::parse(e, None).unwrap().into_e164(), e);
            }
        }

        /// Punctuation and spaces between the groups of a valid number (country code, area
        /// code, exchange, line) do not change it. With and without the region.
        #[test]
        fn punctuation_is_ignored(seps in prop::collection::vec(prop::sample::select(vec!["", " ", "-", ".", " - ", "\u{a0}"]), 3), paren in any::<bool>()) {
            let area = if paren { "(415)" } else { "415" };
            let s = format!("+1{}{area}{}555{}0123", seps[0], seps[1], seps[2]);
            prop_assert_eq!(PhoneNumber::parse(&s, None).unwrap().into_e164(), "+14155550123");
            let national = format!("{area}{}555{}0123", seps[1], seps[2]);
            prop_assert_eq!(PhoneNumber::parse(&national, region("US")).unwrap().into_e164(), "+14155550123");
        }

        /// Punctuation anywhere between the digits of an international number.
        #[test]
        fn punctuation_anywhere(seps in prop::collection::vec(prop::sample::select(vec!["", " ", "-", ".", " - "]), 11)) {
            let mut s = String::from("+");
            for (d, sep) in "14155550123".chars().zip(&seps) {
                s.push(d);
                s.push_str(sep);
            }
            let s = s.trim_end_matches([' ', '-', '.']);
            prop_assert_eq!(PhoneNumber::parse(s, None).unwrap().into_e164(), "+14155550123");
        }
    }
}

/// Readings the `phonenumber` crate (0.3.10, which this module wrapped before) got wrong, and
/// worked around then: libphonenumber's own readings, kept as regression tests.
#[test]
fn libphonenumber_readings_other_ports_got_wrong() {
    // The default region's national prefix (`0` in France) is not stripped from a number
    // that has its own country code: Milan's `02` keeps its zero.
    assert_eq!(e164("+39 02 3661 8300", Some("FR")), "+390236618300");
    assert_eq!(e164("00 39 02 3661 8300", Some("FR")), "+390236618300");
    assert_eq!(
        e164("0039 02 3661 8300 ext. 7", Some("GB")),
        "+390236618300"
    );
    assert_eq!(
        PhoneNumber::parse("0039 02 3661 8300 ext. 7", region("GB"))
            .unwrap()
            .extension(),
        Some("7")
    );
    // Russia's trunk prefix `8` is not stripped from a number written after `+7`, nor twice
    // from a national number that starts with `8` after its trunk `8` (Veliky Novgorod's
    // area code `816`): found by the fuzzing campaign (`fuzz/seeds/sanitize_phone/regress-ru-trunk-8`),
    // where `00 7 816 155 03 23` dialled from France was accepted and its E.164 form refused.
    for (input, r) in [
        ("+7 816 155 03 23", None),
        ("+78161550323", None),
        ("007 816 155 03 23", Some("FR")),
        ("8 816 155 03 23", Some("RU")),
        ("8 (816) 155-03-23", Some("RU")),
    ] {
        assert_eq!(e164(input, r), "+78161550323", "{input}");
    }
    assert_eq!(
        PhoneNumber::parse("+7 816 155 03 23", None)
            .unwrap()
            .number_type(),
        Some(NumberType::FixedLine)
    );
    // A number that is invalid as written stays refused.
    assert!(PhoneNumber::parse("+7 816 155 03 2", None).is_err());
    assert!(PhoneNumber::parse("8 816 155 03 2", region("RU")).is_err());
    // `+` then digits and hyphens is not mistaken for a broken RFC 3966 number.
    assert_eq!(e164("+1415-555-0123", None), "+14155550123");
    assert_eq!(e164("+1415555-0123", Some("CA")), "+14155550123");
    assert_eq!(e164("+44-20-7031-3000;ext=12", None), "+442070313000");
}

/// Found by the `sanitize_phone` fuzz target: a trunk `0` kept after the country code gave an
/// E.164 form (`+330415550123`) that parsed back to another one (`+33415550123`). Whatever
/// the region, an accepted number's E.164 form now parses back to itself.
#[test]
fn a_trunk_zero_after_the_country_code_never_reaches_e164() {
    let input = "000  41 \u{665}55 0123";
    for region in [
        None,
        Some("CA"),
        Some("US"),
        Some("FR"),
        Some("DZ"),
        Some("GB"),
        Some("NZ"),
        Some("IT"),
    ] {
        let region = region.map(|r| Region::new(r).unwrap());
        if let Ok(number) = PhoneNumber::parse(input, region) {
            let again = PhoneNumber::parse(number.e164(), None).unwrap();
            assert_eq!(again.e164(), number.e164(), "{region:?}");
        }
    }
}

/// E.164 allows 15 digits: META's longest example numbers (Germany's toll-free
/// `8001234567890`, India's premium-rate `1861123456789`) are 15 digits with their country
/// code, and are kept whole.
#[test]
fn fifteen_digit_numbers_are_e164() {
    for (input, kind, cc) in [
        ("+49 800 1234567890", NumberType::TollFree, 49),
        ("+91 1861 123 456789", NumberType::PremiumRate, 91),
    ] {
        let n = PhoneNumber::parse(input, None).unwrap();
        assert_eq!(n.e164().len(), 16, "{input}");
        assert_eq!(n.number_type(), Some(kind), "{input}");
        assert_eq!(n.country_code(), cc, "{input}");
    }
    assert_eq!(
        PhoneNumber::parse("+33 6 12 34 56 78", None)
            .unwrap()
            .country_code(),
        33
    );
    assert_eq!(
        PhoneNumber::parse("+213 551 23 45 67", None)
            .unwrap()
            .country_code(),
        213
    );
}

/// Every line type the metadata knows is reported: the example number of each type, in every
/// territory of the real metadata (META), is valid and reported as that type, as
/// libphonenumber's `ExampleNumbersTest` requires.
#[test]
fn metadata_example_numbers_of_every_type() {
    use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, PhoneNumberType as T};
    let types = [
        (T::Mobile, NumberType::Mobile),
        (T::TollFree, NumberType::TollFree),
        (T::PremiumRate, NumberType::PremiumRate),
        (T::SharedCost, NumberType::SharedCost),
        (T::PersonalNumber, NumberType::PersonalNumber),
        (T::VoIP, NumberType::Voip),
        (T::Pager, NumberType::Pager),
        (T::UAN, NumberType::Uan),
        (T::VoiceMail, NumberType::Voicemail),
    ];
    for (theirs, kind) in types {
        let mut examples = 0;
        for region in PHONE_NUMBER_UTIL.get_supported_regions() {
            let Ok(example) =
                PHONE_NUMBER_UTIL.get_example_number_for_type_and_region(region, theirs)
            else {
                continue;
            };
            examples += 1;
            let input = PHONE_NUMBER_UTIL.format(&example, PhoneNumberFormat::International);
            let n = PhoneNumber::parse(&input, None)
                .unwrap_or_else(|e| panic!("{kind:?} of {region}: {input}: {e}"));
            // The NANP cannot tell mobile numbers from fixed lines.
            let want: &[NumberType] = match kind {
                NumberType::Mobile => &[NumberType::Mobile, NumberType::FixedLineOrMobile],
                _ => &[kind],
            };
            assert!(
                n.number_type().is_some_and(|t| want.contains(&t)),
                "{kind:?} of {region}: {input}: {:?}",
                n.number_type()
            );
        }
        assert!(examples > 0, "{kind:?}: no example in the metadata");
    }
}

#[test]
fn error_reasons() {
    let reasons = [
        (PhoneError::NotANumber, "not a phone number"),
        (
            PhoneError::InvalidCountryCode,
            "invalid country calling code",
        ),
        (PhoneError::TooShort, "too short for the numbering plan"),
        (PhoneError::TooLong, "too long for the numbering plan"),
        (
            PhoneError::NotInNumberingPlan,
            "not a valid number in the numbering plan",
        ),
        (PhoneError::InputTooLong, "input longer than 256 bytes"),
        (PhoneError::UnknownRegion, "unknown region code"),
    ];
    for (error, reason) in reasons {
        assert_eq!(error.reason(), reason);
        assert_eq!(error.to_string(), reason);
    }
}
