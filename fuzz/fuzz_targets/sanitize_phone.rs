//! `palisade_sanitize::phone::PhoneNumber::parse` on arbitrary input: it returns `Ok` or
//! `Err`, never panics; an accepted number's E.164 form is `+` and at most 15 ASCII digits,
//! and parses again, without a region, to itself.
//!
//! Input: the first byte picks the default region (none, CA, US, FR, DZ, GB, NZ, IT); the
//! rest is the number, read as lossy UTF-8.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sanitize::phone::{PhoneNumber, Region};

const REGIONS: [&str; 7] = ["CA", "US", "FR", "DZ", "GB", "NZ", "IT"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let region = REGIONS
        .get(usize::from(pick % 8))
        .map(|r| Region::new(r).expect("known region"));
    let text = String::from_utf8_lossy(rest);
    if let Ok(n) = PhoneNumber::parse(&text, region) {
        let e = n.e164();
        assert!(e.len() <= 16 && e.starts_with('+'));
        assert!(e.bytes().skip(1).all(|b| b.is_ascii_digit()));
        let again = PhoneNumber::parse(e, None).expect("E.164 parses");
        assert_eq!(again.e164(), e);
    }
});
