//! Properties: round trips for any bytes and context, any modification refused, parsers and
//! maskers total on any input, normalizers idempotent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::LazyLock;

use palisade_pii::{Context, Envelope, Kek, Keyring, Mask, Normalizer, PiiError, mask};
use proptest::prelude::*;
use secrecy::ExposeSecret;

static KEYRING: LazyLock<Keyring> = LazyLock::new(|| Keyring::generate().unwrap());

fn ctx_parts() -> impl Strategy<Value = (String, String, String, String)> {
    (".{0,12}", ".{0,12}", ".{0,12}", ".{0,12}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip(pt in prop::collection::vec(any::<u8>(), 0..2048), (t, a, c, r) in ctx_parts()) {
        let ctx = Context::new(&t, &a, &c, &r);
        let text = KEYRING.encrypt_to_text(&ctx, &pt).unwrap();
        let back = KEYRING.decrypt_text(&ctx, &text).unwrap();
        prop_assert_eq!(back.expose_secret(), &pt[..]);
    }

    #[test]
    fn any_single_modification_is_refused(
        pt in prop::collection::vec(any::<u8>(), 0..64),
        pos in any::<prop::sample::Index>(),
        xor in 1u8..,
    ) {
        let ctx = Context::new("t", "leads", "phone", "1");
        let mut bytes = KEYRING.encrypt(&ctx, &pt).unwrap().into_bytes();
        let i = pos.index(bytes.len());
        bytes[i] ^= xor;
        let r = Envelope::from_vec(bytes).and_then(|e| KEYRING.decrypt(&ctx, &e));
        prop_assert!(r.is_err());
    }

    #[test]
    fn any_other_context_is_refused(pt in prop::collection::vec(any::<u8>(), 0..64), a in ctx_parts(), b in ctx_parts()) {
        prop_assume!(a != b);
        let ca = Context::new(&a.0, &a.1, &a.2, &a.3);
        let cb = Context::new(&b.0, &b.1, &b.2, &b.3);
        let env = KEYRING.encrypt(&ca, &pt).unwrap();
        prop_assert_eq!(KEYRING.decrypt(&cb, &env).err(), Some(PiiError::Decryption));
    }

    #[test]
    fn parsers_are_total(s in ".*", bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        let ctx = Context::new("t", "leads", "phone", "1");
        let _ = KEYRING.decrypt_text(&ctx, &s);
        let _ = KEYRING.decrypt_text(&ctx, &format!("pii1.{s}"));
        let _ = Envelope::from_bytes(&bytes).map(|e| KEYRING.decrypt(&ctx, &e));
        let _ = Context::parse(&s);
        let _ = Kek::parse(&s);
        let _ = Keyring::from_json_unprotected(&s);
        let _ = Keyring::from_json(&s, &Kek::from_bytes(&[1; 32]).unwrap());
    }

    #[test]
    fn normalizers_are_idempotent(s in ".{0,40}", phone in "\\+[1-9][0-9 ().-]{7,20}") {
        for n in [Normalizer::Exact, Normalizer::Text, Normalizer::Email, Normalizer::Phone, Normalizer::Digits, Normalizer::LastDigits(4)] {
            for input in [s.as_str(), phone.as_str()] {
                if let Ok(once) = n.normalize(input) {
                    let twice = n.normalize(&once).unwrap();
                    prop_assert_eq!(&*once, &*twice);
                }
            }
        }
    }

    #[test]
    fn masks_are_total_and_hide_the_middle(s in ".{0,60}", digits in "[0-9]{8,15}") {
        for m in [Mask::Phone, Mask::Email, Mask::Card, Mask::Address, Mask::Name, Mask::Secret] {
            let _ = mask(m, &s);
        }
        let masked = mask(Mask::Phone, &format!("+{digits}"));
        prop_assert_eq!(masked.len(), digits.len() + 1);
        prop_assert!(masked[2..masked.len() - 4].chars().all(|c| c == '*'));
    }
}
