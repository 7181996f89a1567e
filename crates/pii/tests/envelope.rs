//! Envelopes: round trips, and every way a ciphertext can be wrong refused with a typed
//! error and no plaintext.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_pii::{
    Algorithm, Context, Encrypted, Envelope, KeyPurpose, Keyring, OVERHEAD, PiiError, SecretBox,
    SecretString,
};
use secrecy::ExposeSecret;

const CTX: Context<'static> = Context::new("tenant-42", "leads", "phone", "lead-17");

fn both() -> [Keyring; 2] {
    [
        Keyring::generate().unwrap(),
        Keyring::generate_with(Algorithm::Aes256GcmSiv).unwrap(),
    ]
}

#[test]
fn round_trips_bytes_and_text_for_both_algorithms() {
    for k in both() {
        for pt in [
            &b""[..],
            b"+14389007409",
            &[0u8; 1024],
            "Montréal ☎".as_bytes(),
        ] {
            let env = k.encrypt(&CTX, pt).unwrap();
            assert_eq!(env.as_bytes().len(), pt.len() + OVERHEAD);
            assert_eq!(env.plaintext_len(), pt.len());
            assert_eq!(k.decrypt(&CTX, &env).unwrap().expose_secret(), pt);
            let text = env.to_text();
            assert!(text.starts_with("pii1."));
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            );
            assert_eq!(k.decrypt_text(&CTX, &text).unwrap().expose_secret(), pt);
            assert_eq!(Envelope::parse(&text).unwrap(), env);
        }
    }
}

#[test]
fn nonces_are_fresh() {
    let k = Keyring::generate().unwrap();
    let a = k.encrypt(&CTX, b"same").unwrap();
    let b = k.encrypt(&CTX, b"same").unwrap();
    assert_ne!(a, b);
    assert_ne!(a.as_bytes()[6..18], b.as_bytes()[6..18]);
}

#[test]
fn wrong_key_is_refused() {
    let a = Keyring::generate().unwrap();
    let b = Keyring::generate().unwrap();
    let env = a.encrypt(&CTX, b"+14389007409").unwrap();
    // Same key id (1), different material.
    assert_eq!(b.decrypt(&CTX, &env).err(), Some(PiiError::Decryption));
}

#[test]
fn every_context_field_is_bound() {
    let k = Keyring::generate().unwrap();
    let env = k.encrypt(&CTX, b"+14389007409").unwrap();
    for other in [
        Context::new("tenant-43", "leads", "phone", "lead-17"),
        Context::new("tenant-42", "contacts", "phone", "lead-17"),
        Context::new("tenant-42", "leads", "mobile", "lead-17"),
        Context::new("tenant-42", "leads", "phone", "lead-18"),
        // Same concatenation, different split: length prefixes keep them apart.
        Context::new("tenant-4", "2leads", "phone", "lead-17"),
        Context::new("tenant-42", "leads", "phonelead-17", ""),
    ] {
        assert_eq!(
            k.decrypt(&other, &env).err(),
            Some(PiiError::Decryption),
            "{other}"
        );
    }
}

#[test]
fn every_flipped_bit_is_refused() {
    for k in both() {
        let env = k.encrypt(&CTX, b"+14389007409").unwrap();
        let bytes = env.as_bytes();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut bad = bytes.to_vec();
                bad[i] ^= 1 << bit;
                let result = Envelope::from_vec(bad).and_then(|e| k.decrypt(&CTX, &e));
                let err = result.err().unwrap_or_else(|| panic!("byte {i} bit {bit}"));
                if i >= 6 {
                    assert_eq!(err, PiiError::Decryption, "byte {i} bit {bit}");
                } else {
                    // Header bytes: refused by the parser or the key lookup.
                    assert!(
                        matches!(
                            err,
                            PiiError::UnsupportedVersion { .. }
                                | PiiError::UnknownAlgorithm { .. }
                                | PiiError::AlgorithmMismatch { .. }
                                | PiiError::UnknownKey { .. }
                                | PiiError::MalformedEnvelope { .. }
                        ),
                        "byte {i} bit {bit}: {err:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_modified_text_character_is_refused() {
    let k = Keyring::generate().unwrap();
    let text = k.encrypt_to_text(&CTX, b"+14389007409").unwrap();
    for i in 0..text.len() {
        for replacement in ['A', 'z', '-', '_', '0', '=', ' ', '.', 'é'] {
            let mut bad: Vec<char> = text.chars().collect();
            if bad[i] == replacement {
                continue;
            }
            bad[i] = replacement;
            let bad: String = bad.into_iter().collect();
            assert!(k.decrypt_text(&CTX, &bad).is_err(), "{i} {replacement}");
        }
    }
}

#[test]
fn truncated_and_extended_inputs_are_refused() {
    let k = Keyring::generate().unwrap();
    let env = k.encrypt(&CTX, b"+14389007409").unwrap();
    let bytes = env.as_bytes();
    for n in 0..bytes.len() {
        let r = Envelope::from_bytes(&bytes[..n]).and_then(|e| k.decrypt(&CTX, &e));
        assert!(r.is_err(), "truncated to {n}");
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    let e = Envelope::from_vec(longer).unwrap();
    assert_eq!(k.decrypt(&CTX, &e).err(), Some(PiiError::Decryption));
    let text = env.to_text();
    for n in 0..text.len() {
        assert!(
            k.decrypt_text(&CTX, &text[..n]).is_err(),
            "text truncated to {n}"
        );
    }
}

#[test]
fn garbage_is_refused_with_typed_errors() {
    let k = Keyring::generate().unwrap();
    for g in [
        "",
        "pii1.",
        "pii1",
        "hello",
        "pii2.AQEAAAAB",
        "pii1.!!!!",
        "pii1.AQEAAAAB",
        "pii1.AQEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pii1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "pii1.AQEAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        "\u{0}\u{ffff}",
    ] {
        let err = k.decrypt_text(&CTX, g).unwrap_err();
        assert!(
            matches!(
                err,
                PiiError::MalformedEnvelope { .. }
                    | PiiError::UnsupportedVersion { .. }
                    | PiiError::UnknownAlgorithm { .. }
                    | PiiError::Decryption
            ),
            "{g:?}: {err:?}"
        );
    }
}

#[test]
fn algorithm_byte_must_match_the_key() {
    let k = Keyring::generate().unwrap();
    let mut bytes = k.encrypt(&CTX, b"x").unwrap().into_bytes();
    bytes[1] = Algorithm::Aes256GcmSiv.id();
    let e = Envelope::from_vec(bytes).unwrap();
    assert!(matches!(
        k.decrypt(&CTX, &e),
        Err(PiiError::AlgorithmMismatch { key_id: 1, .. })
    ));
}

#[test]
fn rotation_reencrypt_and_retire() {
    let mut k = Keyring::generate().unwrap();
    let old = k.encrypt(&CTX, b"+14389007409").unwrap();
    assert!(!k.needs_reencrypt(&old));

    let new_id = k.add_key(Algorithm::Aes256GcmSiv).unwrap();
    assert_eq!(new_id.get(), 2);
    // Added but not promoted: still encrypting under key 1.
    assert_eq!(k.encrypt(&CTX, b"x").unwrap().key_id().get(), 1);
    k.promote(KeyPurpose::Encryption, new_id).unwrap();
    assert!(k.needs_reencrypt(&old));
    assert_eq!(
        k.decrypt(&CTX, &old).unwrap().expose_secret(),
        b"+14389007409"
    );

    let fresh = k.reencrypt(&CTX, &old).unwrap();
    assert_eq!(fresh.key_id(), new_id);
    assert_eq!(fresh.algorithm(), Algorithm::Aes256GcmSiv);
    assert!(!k.needs_reencrypt(&fresh));

    let old_id = old.key_id();
    assert!(matches!(
        k.retire(KeyPurpose::Encryption, new_id),
        Err(PiiError::Rotation { .. })
    ));
    k.retire(KeyPurpose::Encryption, old_id).unwrap();
    assert_eq!(
        k.decrypt(&CTX, &old).err(),
        Some(PiiError::RetiredKey { key_id: 1 })
    );
    assert!(matches!(
        k.promote(KeyPurpose::Encryption, old_id),
        Err(PiiError::Rotation { .. })
    ));
    k.reactivate(KeyPurpose::Encryption, old_id).unwrap();
    assert!(k.decrypt(&CTX, &old).is_ok());
    k.retire(KeyPurpose::Encryption, old_id).unwrap();
    k.remove(KeyPurpose::Encryption, old_id).unwrap();
    assert_eq!(
        k.decrypt(&CTX, &old).err(),
        Some(PiiError::UnknownKey { key_id: 1 })
    );
    assert!(matches!(
        k.remove(KeyPurpose::Encryption, new_id),
        Err(PiiError::Rotation { .. })
    ));
    assert_eq!(
        k.decrypt(&CTX, &fresh).unwrap().expose_secret(),
        b"+14389007409"
    );
    assert_eq!(k.rotate().unwrap().get(), 3);
    assert!(k.needs_reencrypt(&fresh));
}

#[test]
fn usage_counter_and_rotation_threshold() {
    let k = Keyring::generate().unwrap().with_rotation_threshold(3);
    let id = k.primary_id(KeyPurpose::Encryption);
    for n in 0..3 {
        assert!(!k.needs_rotation());
        assert_eq!(k.usage(KeyPurpose::Encryption, id), Some(n));
        k.encrypt(&CTX, b"x").unwrap();
    }
    assert!(k.needs_rotation());
    assert_eq!(k.keys(KeyPurpose::Encryption)[0].uses, 3);
    assert_eq!(palisade_pii::GCM_RANDOM_NONCE_LIMIT, 1 << 32);
}

#[test]
fn encrypted_field_round_trips_through_serde() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Lead {
        phone: Encrypted<SecretString>,
        api_key: Encrypted<SecretBox<[u8]>>,
    }
    let k = Keyring::generate().unwrap();
    let phone_ctx = Context::new("t", "leads", "phone", "1");
    let key_ctx = Context::new("t", "leads", "twilio_auth_token", "1");
    let lead = Lead {
        phone: Encrypted::encrypt(&k, &phone_ctx, &SecretString::from("+14389007409")).unwrap(),
        api_key: Encrypted::encrypt(
            &k,
            &key_ctx,
            &SecretBox::<[u8]>::from(b"0123456789abcdef".to_vec()),
        )
        .unwrap(),
    };
    let json = serde_json::to_string(&lead).unwrap();
    assert!(!json.contains("4389007409") && !json.contains("0123456789"));
    let back: Lead = serde_json::from_str(&json).unwrap();
    assert_eq!(
        back.phone.decrypt(&k, &phone_ctx).unwrap().expose_secret(),
        "+14389007409"
    );
    assert_eq!(
        back.api_key.decrypt(&k, &key_ctx).unwrap().expose_secret(),
        b"0123456789abcdef"
    );
    // The two fields cannot be swapped.
    let swapped: Encrypted<SecretString> = Encrypted::from_envelope(back.api_key.into_envelope());
    assert!(swapped.decrypt(&k, &phone_ctx).is_err());
    // Malformed values fail at deserialization.
    assert!(serde_json::from_str::<Lead>(r#"{"phone":"pii1.xx","api_key":"x"}"#).is_err());
    // Non-UTF-8 plaintext asked for as text.
    let bin = Encrypted::<SecretBox<[u8]>>::encrypt(
        &k,
        &phone_ctx,
        &SecretBox::<[u8]>::from(vec![0xff, 0xfe]),
    )
    .unwrap();
    let as_text: Encrypted<SecretString> = Encrypted::from_envelope(bin.into_envelope());
    assert_eq!(
        as_text.decrypt(&k, &phone_ctx).err(),
        Some(PiiError::NotUtf8)
    );
    assert!(!lead.phone.needs_reencrypt(&k));
}

#[test]
fn debug_output_shows_no_secret_or_ciphertext() {
    let k = Keyring::generate().unwrap();
    let env = k.encrypt(&CTX, b"+14389007409").unwrap();
    let text = env.to_text();
    let shown = format!(
        "{k:?} {env:?} {:?}",
        Encrypted::<SecretString>::from_envelope(env.clone())
    );
    assert!(!shown.contains(&text[5..15]), "{shown}");
    let unprotected = k.to_json_unprotected().unwrap();
    let material = unprotected
        .expose_secret()
        .split("\"material\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(!shown.contains(&material));
    assert!(shown.contains("key_id"));
}

#[test]
fn the_newest_key_is_never_removed_so_ids_are_never_reused() {
    let mut k = Keyring::generate().unwrap();
    let first = k.primary_id(KeyPurpose::Encryption);
    let added = k.add_key(Algorithm::Aes256Gcm).unwrap();
    k.retire(KeyPurpose::Encryption, added).unwrap();
    // `added` is retired but has the highest id: removing it would free its id.
    assert!(matches!(
        k.remove(KeyPurpose::Encryption, added),
        Err(PiiError::Rotation { .. })
    ));
    let newer = k.add_key(Algorithm::Aes256Gcm).unwrap();
    assert!(newer > added && added > first);
    k.remove(KeyPurpose::Encryption, added).unwrap();
    let after = k.add_key(Algorithm::Aes256Gcm).unwrap();
    assert!(after > newer, "a removed id is never handed out again");
}

/// Per-field state is cached by (key, field): across many fields, each field still gets its
/// own key. Another instance of the same keyset, whose cache fills in another order, decrypts
/// every field, and an index of each field is the other instance's too.
#[test]
fn many_fields_each_keep_their_own_derived_key() {
    use palisade_pii::{BlindIndex, Context, Kek, Keyring, Normalizer};
    use secrecy::ExposeSecret as _;
    let kek = Kek::generate().unwrap();
    let a = Keyring::generate().unwrap();
    let b = Keyring::from_json(&a.to_json(&kek).unwrap(), &kek).unwrap();
    let fields: Vec<(String, String)> = (0..600)
        .map(|i| (format!("table{}", i % 37), format!("column{i}")))
        .collect();
    let sealed: Vec<String> = fields
        .iter()
        .map(|(t, c)| {
            let ctx = Context::new("tenant", t, c, "row");
            a.encrypt_to_text(&ctx, c.as_bytes()).unwrap()
        })
        .collect();
    for ((t, c), text) in fields.iter().zip(&sealed).rev() {
        let ctx = Context::new("tenant", t, c, "row");
        assert_eq!(
            b.decrypt_text(&ctx, text).unwrap().expose_secret(),
            c.as_bytes()
        );
    }
    let index = |k: &Keyring, (t, c): &(String, String)| {
        k.blind_index(
            &BlindIndex::new(t.as_str(), c.as_str(), Normalizer::Exact),
            "tenant",
            "v",
        )
        .unwrap()
    };
    let from_a: Vec<_> = fields.iter().map(|f| index(&a, f)).collect();
    let from_b: Vec<_> = fields.iter().rev().map(|f| index(&b, f)).collect();
    assert!(from_a.iter().eq(from_b.iter().rev()));
}

/// An `Encrypted<T>` field: equal to its clone only, shown as its envelope, flagged for
/// re-encryption once the primary key changes, and named in serde's error.
#[test]
fn an_encrypted_field_compares_shows_and_rotates_as_its_envelope() {
    let mut k = Keyring::generate().unwrap();
    let ctx = Context::new("tenant", "leads", "phone", "lead-1");
    let value = SecretString::from("+14389007409");
    let a: Encrypted<SecretString> = Encrypted::encrypt(&k, &ctx, &value).unwrap();
    let b: Encrypted<SecretString> = Encrypted::encrypt(&k, &ctx, &value).unwrap();
    assert_eq!(a, a.clone());
    assert_ne!(a, b, "a fresh nonce each time");
    assert_eq!(a.to_string(), a.envelope().to_text());
    assert_eq!(format!("{a:?}"), format!("Encrypted({:?})", a.envelope()));
    assert!(!a.needs_reencrypt(&k));
    let id = k.add_key(Algorithm::Aes256Gcm).unwrap();
    k.promote(KeyPurpose::Encryption, id).unwrap();
    assert!(a.needs_reencrypt(&k));
    assert!(!a.reencrypt(&k, &ctx).unwrap().needs_reencrypt(&k));
    let err = serde_json::from_str::<Encrypted<SecretString>>("42").unwrap_err();
    assert!(
        err.to_string().contains("a `pii1.` envelope string"),
        "{err}"
    );
}

/// The text form has one spelling: a last base64url character that sets bits past the
/// encoded bytes (RFC 4648 §3.5) is refused, for both partial-group lengths.
#[test]
fn a_text_envelope_with_trailing_bits_set_is_refused() {
    let k = Keyring::generate().unwrap();
    let ctx = Context::new("tenant", "leads", "phone", "lead-1");
    let mut tails = std::collections::BTreeSet::new();
    for len in 0..6 {
        let text = k.encrypt_to_text(&ctx, &vec![b'x'; len]).unwrap();
        let body_len = text.len() - "pii1.".len();
        tails.insert(body_len % 4);
        if body_len.is_multiple_of(4) {
            continue;
        }
        // The alphabet's next character differs in the lowest bit: always a trailing bit.
        let last = *text.as_bytes().last().unwrap();
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let i = ALPHABET.iter().position(|&c| c == last).unwrap();
        let mut changed = text.clone();
        changed.pop();
        changed.push(char::from(ALPHABET[i + 1]));
        assert!(
            matches!(
                k.decrypt_text(&ctx, &changed),
                Err(PiiError::MalformedEnvelope { .. })
            ),
            "{changed}"
        );
        assert!(Envelope::parse(&changed).is_err(), "{changed}");
    }
    assert!(tails.contains(&2) && tails.contains(&3), "{tails:?}");
}

#[test]
fn key_ids_display_as_their_number() {
    let id = palisade_pii::KeyId::new(42).unwrap();
    assert_eq!(id.to_string(), "42");
    assert_eq!(id.get(), 42);
}

/// The default rotation threshold is half the random-nonce limit of AES-GCM (2^31 of 2^32):
/// a fresh keyring does not ask for rotation after a few encryptions.
#[test]
fn the_default_rotation_threshold_is_half_the_nonce_limit() {
    use palisade_pii::{DEFAULT_ROTATION_THRESHOLD, GCM_RANDOM_NONCE_LIMIT};
    assert_eq!(DEFAULT_ROTATION_THRESHOLD, 1 << 31);
    assert_eq!(DEFAULT_ROTATION_THRESHOLD * 2, GCM_RANDOM_NONCE_LIMIT);
    let k = Keyring::generate().unwrap();
    let ctx = Context::new("tenant", "leads", "phone", "lead-1");
    for _ in 0..3 {
        k.encrypt(&ctx, b"x").unwrap();
    }
    assert!(!k.needs_rotation());
}
