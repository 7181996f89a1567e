//! Phone normalization against the `phonenumber` crate it wraps, in one run.
//!
//! - `phone/palisade/*`: `PhoneNumber::parse` (Unicode digit mapping, parse, validation
//!   against the numbering plan, number type, E.164 string).
//! - `phone/phonenumber_parse/*`: `phonenumber::parse` alone (no validation: the floor).
//! - `phone/phonenumber_parse_valid/*`: `phonenumber::parse` then `PhoneNumber::is_valid`,
//!   what a caller of the crate must do to refuse invalid numbers.
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

/// A case: name, input, and the default region in both crates' types.
type Case = (&'static str, &'static str, Option<(Region, Id)>);

fn phone(c: &mut Criterion) {
    let cases: [Case; 3] = [
        ("international", "+1 (415) 555-0123", None),
        (
            "national_gb",
            "020 7031 3000",
            Some((Region::new("GB").unwrap(), Id::GB)),
        ),
        (
            "idd_fr",
            "00 33 6 12 34 56 78",
            Some((Region::new("FR").unwrap(), Id::FR)),
        ),
    ];
    let mut g = c.benchmark_group("phone");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for (name, input, region) in cases {
        let ours = region.map(|(r, _)| r);
        let theirs = region.map(|(_, id)| id);
        // Warm the metadata's regex cache for both before measuring.
        PhoneNumber::parse(input, ours).unwrap();
        g.bench_function(format!("palisade/{name}"), |b| {
            b.iter(|| PhoneNumber::parse(black_box(input), ours).unwrap())
        });
        g.bench_function(format!("phonenumber_parse/{name}"), |b| {
            b.iter(|| phonenumber::parse(theirs, black_box(input)).unwrap())
        });
        g.bench_function(format!("phonenumber_parse_valid/{name}"), |b| {
            b.iter(|| {
                let n = phonenumber::parse(theirs, black_box(input)).unwrap();
                assert!(n.is_valid());
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, phone);
criterion_main!(benches);
