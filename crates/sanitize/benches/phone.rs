//! Phone normalization against the libphonenumber port it wraps, and against the other Rust
//! port (`phonenumber`, which this crate wrapped before), in one run.
//!
//! - `phone/palisade/*`: `PhoneNumber::parse` (Unicode digit mapping, parse, validation
//!   against the numbering plan, number type, E.164 string).
//! - `phone/rlibphonenumber_parse/*`: `rlibphonenumber`'s parse alone (no validation: the
//!   floor).
//! - `phone/rlibphonenumber_parse_valid/*`: its parse then `is_valid_number`, what a caller of
//!   the crate must run to refuse invalid numbers.
//! - `phone/phonenumber_parse_valid/*`: the same with `phonenumber` 0.3.10 (the peer).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use palisade_sanitize::phone::{PhoneNumber, Region};
use phonenumber::country::Id;
use rlibphonenumber::PHONE_NUMBER_UTIL;

/// A case: name, input, and the default region in the three crates' types.
type Case = (
    &'static str,
    &'static str,
    Option<(Region, rlibphonenumber::Region, Id)>,
);

fn phone(c: &mut Criterion) {
    let cases: [Case; 3] = [
        ("international", "+1 (415) 555-0123", None),
        (
            "national_gb",
            "020 7031 3000",
            Some((
                Region::new("GB").unwrap(),
                rlibphonenumber::Region::GB,
                Id::GB,
            )),
        ),
        (
            "idd_fr",
            "00 33 6 12 34 56 78",
            Some((
                Region::new("FR").unwrap(),
                rlibphonenumber::Region::FR,
                Id::FR,
            )),
        ),
    ];
    let mut g = c.benchmark_group("phone");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for (name, input, region) in cases {
        let ours = region.map(|(r, _, _)| r);
        let port = region.map(|(_, r, _)| r);
        let peer = region.map(|(_, _, id)| id);
        // Warm the metadata and the regex caches of every crate before measuring.
        PhoneNumber::parse(input, ours).unwrap();
        assert!(phonenumber::parse(peer, input).unwrap().is_valid());
        g.bench_function(format!("palisade/{name}"), |b| {
            b.iter(|| PhoneNumber::parse(black_box(input), ours).unwrap())
        });
        g.bench_function(format!("rlibphonenumber_parse/{name}"), |b| {
            b.iter(|| PHONE_NUMBER_UTIL.parse(black_box(input), port).unwrap())
        });
        g.bench_function(format!("rlibphonenumber_parse_valid/{name}"), |b| {
            b.iter(|| {
                let n = PHONE_NUMBER_UTIL.parse(black_box(input), port).unwrap();
                assert!(PHONE_NUMBER_UTIL.is_valid_number(&n));
                n
            })
        });
        g.bench_function(format!("phonenumber_parse_valid/{name}"), |b| {
            b.iter(|| {
                let n = phonenumber::parse(peer, black_box(input)).unwrap();
                assert!(n.is_valid());
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, phone);
criterion_main!(benches);
