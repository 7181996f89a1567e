//! Blind indexes: normalization, tenant and field separation, compound indexes, truncation,
//! and independence from encryption-key rotation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;

use palisade_pii::{BlindIndex, Kek, KeyPurpose, Keyring, Normalizer, PiiError};

#[test]
fn equal_after_normalization_and_stable_across_save_and_load() {
    let k = Keyring::generate().unwrap();
    let phone = BlindIndex::new("leads", "phone", Normalizer::Phone);
    let forms = [
        "+14389007409",
        "+1 438 900 7409",
        "+1 (438) 900-7409",
        "+1.438.900.7409",
    ];
    let values: HashSet<_> = forms
        .iter()
        .map(|f| k.blind_index(&phone, "t", f).unwrap().to_hex())
        .collect();
    assert_eq!(values.len(), 1);
    let kek = Kek::generate().unwrap();
    let loaded = Keyring::from_json(&k.to_json(&kek).unwrap(), &kek).unwrap();
    assert_eq!(
        loaded.blind_index(&phone, "t", "+14389007409").unwrap(),
        k.blind_index(&phone, "t", "+14389007409").unwrap()
    );
    let email = BlindIndex::new("leads", "email", Normalizer::Email);
    assert_eq!(
        k.blind_index(&email, "t", " Jean@Example.com").unwrap(),
        k.blind_index(&email, "t", "jean@example.com").unwrap()
    );
}

/// One phone normalization in the workspace (palisade-sanitize's `PhoneNumber`): the same
/// number written internationally, with a region's international prefix, or in E.164 gets
/// one blind index, whether the index reads national forms (`PhoneIn`) or not (`Phone`).
#[test]
fn same_phone_written_three_ways_gets_one_blind_index() {
    let k = Keyring::generate().unwrap();
    let gb = palisade_sanitize::phone::Region::new("GB").unwrap();
    let intl = BlindIndex::new("leads", "phone", Normalizer::Phone);
    let national = BlindIndex::new("leads", "phone", Normalizer::PhoneIn(gb));
    let e164 = k.blind_index(&intl, "t", "+14155550123").unwrap();
    assert_eq!(
        k.blind_index(&intl, "t", "+1 (415) 555-0123").unwrap(),
        e164
    );
    assert_eq!(
        k.blind_index(&national, "t", "001 415 555 0123").unwrap(),
        e164
    );
    assert_eq!(
        k.blind_index(&national, "t", "+1 (415) 555-0123").unwrap(),
        e164
    );
    assert_eq!(k.blind_index(&national, "t", "+14155550123").unwrap(), e164);
    // A national number is refused where no region says how to read it.
    assert!(matches!(
        k.blind_index(&intl, "t", "001 415 555 0123"),
        Err(PiiError::Normalization { .. })
    ));
}

#[test]
fn tenants_fields_and_keyrings_are_separated() {
    let k = Keyring::generate().unwrap();
    let other = Keyring::generate().unwrap();
    let a = BlindIndex::new("leads", "phone", Normalizer::Phone);
    let b = BlindIndex::new("contacts", "phone", Normalizer::Phone);
    let v = "+14389007409";
    let all = [
        k.blind_index(&a, "t1", v).unwrap(),
        k.blind_index(&a, "t2", v).unwrap(),
        k.blind_index(&b, "t1", v).unwrap(),
        other.blind_index(&a, "t1", v).unwrap(),
        k.blind_index(&a, "t1", "+14389007408").unwrap(),
    ];
    let distinct: HashSet<_> = all.iter().map(|x| x.to_hex()).collect();
    assert_eq!(distinct.len(), all.len());
}

#[test]
fn encryption_key_rotation_leaves_indexes_unchanged() {
    let mut k = Keyring::generate().unwrap();
    let idx = BlindIndex::new("leads", "phone", Normalizer::Phone);
    let before = k.blind_index(&idx, "t", "+14389007409").unwrap();
    k.rotate().unwrap();
    k.retire(KeyPurpose::Encryption, palisade_pii::KeyId::FIRST)
        .unwrap();
    assert_eq!(k.blind_index(&idx, "t", "+14389007409").unwrap(), before);
}

#[test]
fn index_key_rotation_offers_candidates() {
    let mut k = Keyring::generate().unwrap();
    let idx = BlindIndex::new("leads", "phone", Normalizer::Phone);
    let old = k.blind_index(&idx, "t", "+14389007409").unwrap();
    let new_id = k.add_index_key().unwrap();
    let candidates = k
        .blind_index_candidates(&idx, "t", &["+14389007409"])
        .unwrap();
    assert_eq!(candidates.len(), 2);
    assert_eq!(candidates[0], old);
    let new = k
        .blind_index_with(new_id, &idx, "t", &["+14389007409"])
        .unwrap();
    assert_eq!(candidates[1], new);
    assert_ne!(old, new);
    k.promote(KeyPurpose::Index, new_id).unwrap();
    k.retire(KeyPurpose::Index, palisade_pii::KeyId::FIRST)
        .unwrap();
    assert_eq!(k.blind_index(&idx, "t", "+14389007409").unwrap(), new);
    assert_eq!(
        k.blind_index_with(palisade_pii::KeyId::FIRST, &idx, "t", &["+14389007409"])
            .err(),
        Some(PiiError::RetiredKey { key_id: 1 })
    );
}

#[test]
fn compound_index_country_and_last_four() {
    let k = Keyring::generate().unwrap();
    let idx = BlindIndex::compound(
        "leads",
        "country_phone_last4",
        [Normalizer::Text, Normalizer::LastDigits(4)],
    )
    .unwrap()
    .with_bits(24)
    .unwrap();
    let a = k
        .compound_index(&idx, "t", &["CA", "+1 438 900 7409"])
        .unwrap();
    let b = k
        .compound_index(&idx, "t", &[" ca ", "+15145557409"])
        .unwrap();
    let c = k
        .compound_index(&idx, "t", &["FR", "+33 1 23 45 74 09"])
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.bits(), 24);
    assert_eq!(a.as_bytes().len(), 3);
    // The parts are length-prefixed: ("CA", "7409") and ("CA7", "409") differ.
    let free =
        BlindIndex::compound("leads", "pair", [Normalizer::Exact, Normalizer::Exact]).unwrap();
    assert_ne!(
        k.compound_index(&free, "t", &["CA", "7409"]).unwrap(),
        k.compound_index(&free, "t", &["CA7", "409"]).unwrap()
    );
    assert!(matches!(
        k.compound_index(&idx, "t", &["CA"]),
        Err(PiiError::InvalidBlindIndex { .. })
    ));
    assert!(matches!(
        k.blind_index(&idx, "t", "CA"),
        Err(PiiError::InvalidBlindIndex { .. })
    ));
    assert!(BlindIndex::compound("t", "n", []).is_err());
}

#[test]
fn truncation_and_false_positive_estimate() {
    let k = Keyring::generate().unwrap();
    for bits in [1, 7, 8, 13, 32, 64, 100, 256] {
        let idx = BlindIndex::new("t", "c", Normalizer::Exact)
            .with_bits(bits)
            .unwrap();
        let v = k.blind_index(&idx, "", "x").unwrap();
        assert_eq!(v.bits(), bits);
        assert_eq!(v.as_bytes().len(), usize::from(bits).div_ceil(8));
        assert_eq!(v.to_hex().len(), 2 * v.as_bytes().len());
        assert_eq!(v.as_u64().is_some(), bits <= 64);
        if let Some(n) = v.as_u64() {
            assert!(bits == 64 || n < 1 << bits);
        }
        // A longer index extends a shorter one.
        let full = k
            .blind_index(
                &BlindIndex::new("t", "c", Normalizer::Exact)
                    .with_bits(256)
                    .unwrap(),
                "",
                "x",
            )
            .unwrap();
        assert_eq!(
            &full.as_bytes()[..usize::from(bits) / 8],
            &v.as_bytes()[..usize::from(bits) / 8]
        );
    }
    for bad in [0, 257] {
        assert!(
            BlindIndex::new("t", "c", Normalizer::Exact)
                .with_bits(bad)
                .is_err()
        );
    }
    let idx = BlindIndex::new("t", "c", Normalizer::Exact);
    assert!((idx.expected_false_positives(1_000_000) - 0.000_232_8).abs() < 1e-6);
    // 8-bit indexes collide: among 2 000 distinct values, many share an index.
    let small = BlindIndex::new("t", "c", Normalizer::Exact)
        .with_bits(8)
        .unwrap();
    let seen: HashSet<_> = (0..2000)
        .map(|i| k.blind_index(&small, "", &i.to_string()).unwrap().to_hex())
        .collect();
    assert!(seen.len() <= 256);
}

#[test]
fn normalization_errors_name_no_value() {
    let k = Keyring::generate().unwrap();
    let idx = BlindIndex::new("leads", "phone", Normalizer::Phone);
    let err = k.blind_index(&idx, "t", "438 900 7409").unwrap_err();
    assert!(matches!(
        err,
        PiiError::Normalization {
            normalizer: "phone",
            ..
        }
    ));
    assert!(!err.to_string().contains("438"));
}

/// A number parsed once (`PhoneNumber::parse`) indexes as its text does through the index's
/// normalizer, for every format and for `Phone` and `PhoneIn` indexes alike.
#[test]
fn a_parsed_phone_number_indexes_as_its_text() {
    use palisade_sanitize::phone::{PhoneNumber, Region};
    let k = Keyring::generate().unwrap();
    let ca = Region::new("CA").unwrap();
    let fr = Region::new("FR").unwrap();
    let phone = BlindIndex::new("leads", "phone", Normalizer::Phone);
    let phone_ca = BlindIndex::new("leads", "phone", Normalizer::PhoneIn(ca));
    let short = BlindIndex::new("leads", "phone", Normalizer::Phone)
        .with_bits(16)
        .unwrap();
    for (text, region) in [
        ("+1 (438) 900-7409", None),
        ("(438) 900-7409", Some(ca)),
        ("00 1 438 900 7409", Some(fr)),
        ("+44 20 7946 0958", None),
        ("+39 02 3661 8300", None),
        ("+7 816 155 03 23", None),
        ("+٩٧١ ٥٠ ١٢٣ ٤٥٦٧", None),
    ] {
        let number = PhoneNumber::parse(text, region).unwrap();
        for index in [&phone, &phone_ca, &short] {
            assert_eq!(
                k.blind_index_phone(index, "t", &number).unwrap(),
                k.blind_index(index, "t", number.e164()).unwrap(),
                "{text}"
            );
        }
        assert_ne!(
            k.blind_index_phone(&phone, "t", &number).unwrap(),
            k.blind_index_phone(&phone, "u", &number).unwrap(),
            "tenants stay separated"
        );
    }
    // The normalizer refuses a number with an extension; so does the parsed path.
    let with_ext = PhoneNumber::parse("+1 438 900 7409 ext. 12", None).unwrap();
    assert!(matches!(
        k.blind_index_phone(&phone, "t", &with_ext),
        Err(PiiError::Normalization { .. })
    ));
    // Only an index of one phone part takes a parsed number.
    let number = PhoneNumber::parse("+14389007409", None).unwrap();
    for index in [
        BlindIndex::new("leads", "phone", Normalizer::Exact),
        BlindIndex::new("leads", "phone", Normalizer::Digits),
        BlindIndex::compound("leads", "phone", [Normalizer::Phone, Normalizer::Text]).unwrap(),
    ] {
        assert!(
            matches!(
                k.blind_index_phone(&index, "t", &number),
                Err(PiiError::InvalidBlindIndex { .. })
            ),
            "{:?}",
            index.parts()
        );
    }
}

/// An index reports its configuration; its values show as hex and hash by value.
#[test]
fn an_index_and_its_values_show_what_they_are() {
    use std::hash::{BuildHasher, RandomState};
    let k = Keyring::generate().unwrap();
    let compound = BlindIndex::compound(
        "leads",
        "country_last4",
        [Normalizer::Text, Normalizer::LastDigits(4)],
    )
    .unwrap()
    .with_bits(24)
    .unwrap();
    assert_eq!(compound.table(), "leads");
    assert_eq!(compound.column(), "country_last4");
    assert_eq!(
        compound.parts(),
        [Normalizer::Text, Normalizer::LastDigits(4)]
    );
    assert_eq!(compound.bits(), 24);
    // The longest index (256 bits) displays whole.
    let full = BlindIndex::new("leads", "email", Normalizer::Email)
        .with_bits(256)
        .unwrap();
    let a = k.blind_index(&full, "t", "jean@example.com").unwrap();
    let b = k.blind_index(&full, "t", "marie@example.com").unwrap();
    assert_eq!(a.to_string(), a.to_hex());
    assert_eq!(a.to_string().len(), 64);
    assert_eq!(
        format!("{a:?}"),
        format!("IndexValue({}, 256 bits)", a.to_hex())
    );
    let hasher = RandomState::new();
    let copy = a;
    assert_eq!(hasher.hash_one(a), hasher.hash_one(copy));
    assert_ne!(hasher.hash_one(a), hasher.hash_one(b));
}

#[test]
fn algorithms_by_name() {
    use palisade_pii::Algorithm;
    for (alg, name) in [
        (Algorithm::Aes256Gcm, "aes-256-gcm"),
        (Algorithm::Aes256GcmSiv, "aes-256-gcm-siv"),
    ] {
        assert_eq!(alg.to_string(), name);
        assert_eq!(name.parse::<Algorithm>().unwrap(), alg);
        assert_eq!(name.to_ascii_uppercase().parse::<Algorithm>().unwrap(), alg);
    }
    assert!("aes-128-gcm".parse::<Algorithm>().is_err());
}

/// The normalizers' names, as errors print them.
#[test]
fn normalizer_names() {
    let ca = palisade_sanitize::phone::Region::new("CA").unwrap();
    let table = [
        (Normalizer::Exact, "exact"),
        (Normalizer::Text, "text"),
        (Normalizer::Email, "email"),
        (Normalizer::Phone, "phone"),
        (Normalizer::PhoneIn(ca), "phone"),
        (Normalizer::Digits, "digits"),
        (Normalizer::LastDigits(4), "last-digits"),
    ];
    for (normalizer, name) in table {
        assert_eq!(normalizer.name(), name);
    }
}
