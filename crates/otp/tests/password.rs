//! Passwords: the RFC 9106 vector, PHC strings of other implementations, round trips,
//! `needs_rehash`, pepper rotation, typed errors on hostile strings, the unknown-user path.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};
use palisade_otp::{MAX_PASSWORD_BYTES, PasswordError, PasswordPolicy, Passwords, Pepper};
use proptest::prelude::*;
use secrecy::{SecretBox, SecretString};

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

/// Small parameters for the tests about logic (argon2 with OWASP's cost is slow in debug).
fn small_policy() -> PasswordPolicy {
    PasswordPolicy::new(64, 1, 1).unwrap()
}

fn small() -> Passwords {
    Passwords::new(small_policy())
}

fn pepper(id: &str, byte: u8) -> Pepper {
    Pepper::new(id, SecretBox::from(vec![byte; 32])).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// RFC 9106 §5.3 (Argon2id, version 0x13, with secret and associated data), from
/// `shared/vectors/argon2.json` (copied to `tests/vectors/`, CI checks the copy is identical),
/// through the `argon2` crate's API with the algorithm, version and parameter order our PHC
/// strings use.
#[test]
fn rfc9106_argon2id_vector() {
    let v: serde_json::Value = serde_json::from_str(include_str!("vectors/argon2.json")).unwrap();
    assert_eq!(v["type"], "argon2id");
    assert_eq!(v["version"], 0x13);
    let num = |k: &str| u32::try_from(v[k].as_u64().unwrap()).unwrap();
    let bytes = |k: &str| hex(v[k].as_str().unwrap());
    let ad = AssociatedData::new(&bytes("associated_data_hex")).unwrap();
    let params = ParamsBuilder::new()
        .m_cost(num("memory_kib"))
        .t_cost(num("iterations"))
        .p_cost(num("parallelism"))
        .data(ad)
        .output_len(num("tag_length") as usize)
        .build()
        .unwrap();
    let secret_key = bytes("secret_hex");
    let argon2 =
        Argon2::new_with_secret(&secret_key, Algorithm::Argon2id, Version::V0x13, params).unwrap();
    let mut tag = vec![0u8; num("tag_length") as usize];
    argon2
        .hash_password_into(&bytes("password_hex"), &bytes("salt_hex"), &mut tag)
        .unwrap();
    assert_eq!(tag, bytes("tag_hex"));
}

/// Our PHC strings are those of the `argon2` crate (and so of the reference encoder): the
/// same tag for the same salt, and our `data=` parsing gives the associated data to argon2.
#[test]
fn associated_data_parameter_is_used() {
    let ad = AssociatedData::new(&[4u8; 12]).unwrap();
    let params = ParamsBuilder::new()
        .m_cost(32)
        .t_cost(3)
        .p_cost(4)
        .data(ad)
        .build()
        .unwrap();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let hash =
        argon2::PasswordHasher::hash_password_with_salt(&argon2, b"password", &[2u8; 16]).unwrap();
    let phc = hash.to_string();
    assert!(phc.contains(",data=BAQEBAQEBAQEBAQE$"), "{phc}");
    let passwords = small();
    assert!(passwords.verify(&secret("password"), &phc).unwrap());
    // The same string without the associated data does not verify: `data` is not ignored.
    let without = phc.replace(",data=BAQEBAQEBAQEBAQE", "");
    assert!(!passwords.verify(&secret("password"), &without).unwrap());
}

/// PHC strings made by other implementations, with the password they hash.
const FOREIGN: &[(&str, &str, &str)] = &[
    // The reference C library's test suite (P-H-C/phc-winner-argon2, src/test.c, version 0x13).
    (
        "reference test.c",
        "password",
        "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8",
    ),
    (
        "reference test.c",
        "password",
        "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E",
    ),
    (
        "reference test.c",
        "password",
        "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
    ),
    // The same suite, version 0x10: no `v=` field.
    (
        "reference test.c (v=16)",
        "password",
        "$argon2i$m=65536,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ",
    ),
    // The reference library's README (`echo -n "password" | ./argon2 somesalt -t 2 -m 16 -p 4 -l 24`).
    (
        "reference README",
        "password",
        "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
    ),
    // The reference CLI (`argon2 randomsaltishard -t 3 -m 12 -p 1 -l 32 -e`), recorded in
    // zitadel/passwap internal/testvalues (argon2.bash): argon2i, argon2d, argon2id.
    (
        "reference CLI via passwap",
        "password",
        "$argon2i$v=19$m=4096,t=3,p=1$cmFuZG9tc2FsdGlzaGFyZA$YMvo8AUoNtnKYGqeODruCjHdiEbl1pKL2MsYy9VgU/E",
    ),
    (
        "reference CLI via passwap",
        "password",
        "$argon2d$v=19$m=4096,t=3,p=1$cmFuZG9tc2FsdGlzaGFyZA$CB0Du96aj3fQVcVSqb0LIA6Z6fpStjzjVkaC3RlpK9A",
    ),
    (
        "reference CLI via passwap",
        "password",
        "$argon2id$v=19$m=4096,t=3,p=1$cmFuZG9tc2FsdGlzaGFyZA$DYojYpnUWSMmTtrkVXyaNWVGxLmGe1n8VJBPDdFkbjU",
    ),
    // The reference CLI (`./argon2 somesalt -id -m 16 -t 3 -p 4 -l 32`), recorded in
    // frankie567/pwdlib tests/hashers/test_argon2.py.
    (
        "reference CLI via pwdlib",
        "herminetincture",
        "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$Hnm7B2p4pnTo3mQ5qFmnHjR1OZBtVXd1B33joTc/XXg",
    ),
    // argon2-cffi's README (`PasswordHasher().hash("correct horse battery staple")`).
    (
        "argon2-cffi README",
        "correct horse battery staple",
        "$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA$YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg",
    ),
    // argon2-cffi's API docs (docs/api.rst, `low_level.hash_secret(b"secret", b"somesalt",
    // time_cost=1, memory_cost=8, parallelism=1, hash_len=64, type=Type.D)`): a 64-byte tag.
    (
        "argon2-cffi docs",
        "secret",
        "$argon2d$v=19$m=8,t=1,p=1$c29tZXNhbHQ$ba2qC75j0+JAunZZ/L0hZdQgCv+tOieBuKKXSrQiWm7nlkRcK+YqWr0i0m0WABJKelU8qHJp0SZzH0b1Z+ITvQ",
    ),
    // libsodium's crypto_pwhash_str (jedisct1/libsodium-php, tests/pwhash_argon2i.phpt).
    (
        "libsodium via libsodium-php",
        "password",
        "$argon2i$v=19$m=4096,t=3,p=1$MzE4ODFiZWFlMjAzOWUAAA$FWUV6tsyJ32qThiLi1cCsLIbf3dIOG/RwXcTzt536KY",
    ),
];

#[test]
fn verifies_phc_strings_of_other_implementations() {
    let passwords = Passwords::default();
    for (source, password, phc) in FOREIGN {
        assert_eq!(
            passwords.verify(&secret(password), phc),
            Ok(true),
            "{source}: {phc}"
        );
        assert_eq!(
            passwords.verify(&secret("not the password"), phc),
            Ok(false),
            "{source}: {phc}"
        );
        // None of them is argon2id v19 with OWASP's parameters, a 16-byte salt and 32-byte tag.
        let rehash = passwords.needs_rehash(phc).unwrap();
        let owasp_like = phc.starts_with("$argon2id$v=19$m=65536,t=3,p=4$MII");
        assert_eq!(rehash, !owasp_like, "{source}: {phc}");
    }
}

/// libsodium's test suite expects this string to be refused for "password" (its tag is that of
/// m=1048576 in the old reference suite): a well-formed string with the wrong tag is `false`.
#[test]
fn libsodium_negative_vector_is_refused() {
    // php-src ext/sodium/tests/pwhash_argon2i.phpt
    let phc = "$argon2i$v=19$m=4096,t=2,p=1$c29tZXNhbHQAAAAAAAAAAA$JTBozgKQiCn5yKAm3Hz0vUSX/XgfqhZloNCxDWmeDr0";
    assert_eq!(
        Passwords::default().verify(&secret("password"), phc),
        Ok(false)
    );
    // And libsodium-php's variant with t=0: argon2 has no zero-pass hash.
    let phc = "$argon2i$v=19$m=4096,t=0,p=1$c29tZXNhbHQAAAAAAAAAAA$JTBozgKQiCn5yKAm3Hz0vUSX/XgfqhZloNCxDWmeDr0";
    assert!(matches!(
        Passwords::default().verify(&secret("password"), phc),
        Err(PasswordError::ParameterOutOfRange {
            name: "t",
            value: 0,
            ..
        })
    ));
}

/// The defaults are OWASP's, and a default hash is argon2id v19 with a 16-byte salt and a
/// 32-byte tag (22 and 43 base64 characters), verified by the `argon2` crate itself.
#[test]
fn default_hash_is_owasp_argon2id() {
    let passwords = Passwords::default();
    assert_eq!(passwords.policy(), &PasswordPolicy::OWASP);
    let p = PasswordPolicy::OWASP;
    assert_eq!(
        (p.memory_kib(), p.iterations(), p.parallelism()),
        (19_456, 2, 1)
    );
    let stored = passwords
        .hash(&secret("correct horse battery staple"))
        .unwrap();
    let fields: Vec<&str> = stored.split('$').collect();
    assert_eq!(
        fields[..4],
        ["", "argon2id", "v=19", "m=19456,t=2,p=1"],
        "{stored}"
    );
    assert_eq!(fields[4].len(), 22, "{stored}");
    assert_eq!(fields[5].len(), 43, "{stored}");
    let parsed = argon2::PasswordHash::new(&stored).unwrap();
    argon2::PasswordVerifier::verify_password(
        &Argon2::default(),
        b"correct horse battery staple",
        &parsed,
    )
    .unwrap();
    assert!(
        passwords
            .verify(&secret("correct horse battery staple"), &stored)
            .unwrap()
    );
    assert!(!passwords.needs_rehash(&stored).unwrap());
}

#[test]
fn round_trip_and_fresh_salts() {
    let passwords = small();
    for password in ["", "p", "pässwörd 🔑", &"x".repeat(MAX_PASSWORD_BYTES)] {
        let a = passwords.hash(&secret(password)).unwrap();
        let b = passwords.hash(&secret(password)).unwrap();
        assert_ne!(a, b, "a fresh salt per hash");
        assert!(passwords.verify(&secret(password), &a).unwrap());
        assert!(passwords.verify(&secret(password), &b).unwrap());
        let other = if password.len() < MAX_PASSWORD_BYTES {
            format!("{password}!")
        } else {
            "y".repeat(MAX_PASSWORD_BYTES)
        };
        assert!(!passwords.verify(&secret(&other), &a).unwrap());
    }
}

#[test]
fn too_long_passwords_are_refused_everywhere() {
    let passwords = small();
    let long = secret(&"a".repeat(MAX_PASSWORD_BYTES + 1));
    let too_long = Err(PasswordError::TooLong {
        len: MAX_PASSWORD_BYTES + 1,
        max: MAX_PASSWORD_BYTES,
    });
    assert_eq!(
        passwords.hash(&long),
        too_long.clone().map(|_: ()| String::new())
    );
    let stored = passwords.hash(&secret("short")).unwrap();
    assert_eq!(
        passwords.verify(&long, &stored),
        too_long.clone().map(|_: ()| false)
    );
    assert_eq!(
        passwords.verify_unknown_user(&long),
        too_long.map(|_: ()| false)
    );
}

#[test]
fn needs_rehash_cases() {
    let policy = PasswordPolicy::new(128, 2, 2).unwrap();
    assert_eq!(
        (
            policy.memory_kib(),
            policy.iterations(),
            policy.parallelism()
        ),
        (128, 2, 2)
    );
    let passwords = Passwords::new(policy);
    assert_eq!(passwords.policy(), &policy);
    let current = passwords.hash(&secret("pw")).unwrap();
    assert!(!passwords.needs_rehash(&current).unwrap());
    let salt_tag = "$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    let case = |prefix: &str| {
        passwords
            .needs_rehash(&format!("{prefix}{salt_tag}"))
            .unwrap()
    };
    assert!(!case("$argon2id$v=19$m=128,t=2,p=2"));
    assert!(
        !case("$argon2id$v=19$m=256,t=3,p=4"),
        "above the policy is fine"
    );
    assert!(case("$argon2id$v=19$m=64,t=2,p=2"), "memory below");
    assert!(case("$argon2id$v=19$m=128,t=1,p=2"), "iterations below");
    assert!(case("$argon2id$v=19$m=128,t=2,p=1"), "lanes below");
    assert!(case("$argon2i$v=19$m=128,t=2,p=2"), "argon2i");
    assert!(case("$argon2d$v=19$m=128,t=2,p=2"), "argon2d");
    assert!(case("$argon2id$v=16$m=128,t=2,p=2"), "version 0x10");
    assert!(case("$argon2id$m=128,t=2,p=2"), "no version: 0x10");
    // A short salt (8 bytes) or tag (16 bytes).
    assert!(passwords
        .needs_rehash("$argon2id$v=19$m=128,t=2,p=2$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
        .unwrap());
    assert!(
        passwords
            .needs_rehash(
                "$argon2id$v=19$m=128,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaA"
            )
            .unwrap()
    );
    // A peppered hash when no pepper is current.
    assert!(case("$argon2id$v=19$m=128,t=2,p=2,pid=old"));
}

#[test]
fn pepper_rotation() {
    let v1 = small().with_pepper(pepper("v1", 1)).unwrap();
    let stored_v1 = v1.hash(&secret("hunter2")).unwrap();
    assert!(
        stored_v1.starts_with("$argon2id$v=19$m=64,t=1,p=1,pid=v1$"),
        "{stored_v1}"
    );
    assert!(v1.verify(&secret("hunter2"), &stored_v1).unwrap());
    assert!(!v1.needs_rehash(&stored_v1).unwrap());

    // Without the pepper the hash cannot be verified: a typed error, not `false`.
    assert_eq!(
        small().verify(&secret("hunter2"), &stored_v1),
        Err(PasswordError::UnknownPepper { id: "v1".into() })
    );
    // The pepper is really used: the same id with another key refuses the password.
    let wrong_key = small().with_pepper(pepper("v1", 9)).unwrap();
    assert!(!wrong_key.verify(&secret("hunter2"), &stored_v1).unwrap());
    // Stripping the pid does not verify either (the tag is over the HMAC, not the password).
    let stripped = stored_v1.replace(",pid=v1", "");
    assert!(!v1.verify(&secret("hunter2"), &stripped).unwrap());
    assert!(
        v1.needs_rehash(&stripped).unwrap(),
        "unpeppered while a pepper is current"
    );

    // Rotation: v2 current, v1 retired (with_pepper retires the previous current one).
    let v2 = small()
        .with_pepper(pepper("v1", 1))
        .unwrap()
        .with_pepper(pepper("v2", 2))
        .unwrap();
    assert!(v2.verify(&secret("hunter2"), &stored_v1).unwrap());
    assert!(!v2.verify(&secret("hunter3"), &stored_v1).unwrap());
    assert!(v2.needs_rehash(&stored_v1).unwrap());
    let stored_v2 = v2.hash(&secret("hunter2")).unwrap();
    assert!(stored_v2.contains(",pid=v2$"), "{stored_v2}");
    assert!(!v2.needs_rehash(&stored_v2).unwrap());
    // The same with an explicitly retired pepper.
    let v2b = small()
        .with_pepper(pepper("v2", 2))
        .unwrap()
        .with_retired_pepper(pepper("v1", 1))
        .unwrap();
    assert!(v2b.verify(&secret("hunter2"), &stored_v1).unwrap());
    assert!(v2b.verify(&secret("hunter2"), &stored_v2).unwrap());
    // Duplicate ids and bad peppers are refused.
    assert!(matches!(
        small()
            .with_pepper(pepper("v1", 1))
            .unwrap()
            .with_retired_pepper(pepper("v1", 3)),
        Err(PasswordError::InvalidPepper { .. })
    ));
    assert!(Pepper::new("v1", SecretBox::from(vec![0u8; 31])).is_err());
    // Password peppers' ids go into the PHC string: only `[A-Za-z0-9-]{1,32}`.
    for id in ["", "a b", "a,b", "a$b", "a=b", &"x".repeat(33)] {
        let refused = match Pepper::new(id, SecretBox::from(vec![0u8; 32])) {
            Err(_) => true,
            Ok(pepper) => matches!(
                Passwords::new(PasswordPolicy::OWASP).with_pepper(pepper),
                Err(PasswordError::InvalidPepper { .. })
            ),
        };
        assert!(refused, "{id:?}");
    }
}

#[test]
fn hostile_strings_get_typed_errors() {
    let passwords = small();
    let pw = secret("password");
    let st = "$c29tZXNhbHQ$aGFzaGhhc2hoYXNo";
    let malformed = [
        "".to_owned(),
        "$".to_owned(),
        "argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g".to_owned(),
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ".to_owned(),
        "$argon2id$v=19$m=64,t=1,p=1".to_owned(),
        format!("$argon2id$v=19$m=64,t=1{st}"),
        format!("$argon2id$v=19$m=64,t=1,p=1,m=64{st}"),
        format!("$argon2id$v=19$m=64,t=1,p=1,x=1{st}"),
        format!("$argon2id$v=19$m=64,t=1,p=1,keyid=AAAA{st}"),
        format!("$argon2id$v=19$m=6x,t=1,p=1{st}"),
        format!("$argon2id$v=19$m=64,t=1,p=1,pid=a_b{st}"),
        "$argon2id$v=19$m=64,t=1,p=1$!!!$aGFzaGhhc2g".to_owned(),
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g$extra".to_owned(),
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNo".to_owned(), // 4-byte salt
        "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaA".to_owned(),      // 4-byte tag
        format!("$argon2id$v=19$m=64,t=1,p=1{st}{}", "A".repeat(600)),
    ];
    for phc in &malformed {
        assert!(
            matches!(
                passwords.verify(&pw, phc),
                Err(PasswordError::Malformed { .. })
            ),
            "{phc}"
        );
        assert!(
            matches!(
                passwords.needs_rehash(phc),
                Err(PasswordError::Malformed { .. })
            ),
            "{phc}"
        );
    }
    assert_eq!(
        passwords.verify(&pw, &format!("$argon2x$v=19$m=64,t=1,p=1{st}")),
        Err(PasswordError::UnsupportedAlgorithm {
            algorithm: "argon2x".into()
        })
    );
    assert!(matches!(
        passwords.verify(
            &pw,
            "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW"
        ),
        Err(PasswordError::UnsupportedAlgorithm { .. } | PasswordError::Malformed { .. })
    ));
    assert_eq!(
        passwords.verify(&pw, &format!("$argon2id$v=18$m=64,t=1,p=1{st}")),
        Err(PasswordError::UnsupportedVersion { version: 18 })
    );
    // Costs above the verification limits are refused before any memory is allocated.
    for (phc, name) in [
        (format!("$argon2id$v=19$m=4294967295,t=1,p=1{st}"), "m"),
        (format!("$argon2id$v=19$m=262145,t=1,p=1{st}"), "m"),
        (format!("$argon2id$v=19$m=64,t=17,p=1{st}"), "t"),
        (format!("$argon2id$v=19$m=64,t=1,p=17{st}"), "p"),
        (format!("$argon2id$v=19$m=8,t=1,p=2{st}"), "m"),
        (format!("$argon2id$v=19$m=64,t=0,p=1{st}"), "t"),
    ] {
        assert!(
            matches!(passwords.verify(&pw, &phc), Err(PasswordError::ParameterOutOfRange { name: n, .. }) if n == name),
            "{phc}: {:?}",
            passwords.verify(&pw, &phc)
        );
    }
    // Tighter limits refuse what the defaults accept.
    let tight = Passwords::new(small_policy().with_verify_limits(64, 1, 1).unwrap());
    assert!(matches!(
        tight.verify(&pw, &format!("$argon2id$v=19$m=128,t=1,p=1{st}")),
        Err(PasswordError::ParameterOutOfRange {
            name: "m",
            value: 128,
            max: 64,
            ..
        })
    ));
    assert!(matches!(
        small_policy().with_verify_limits(32, 1, 1),
        Err(PasswordError::ParameterOutOfRange { .. })
    ));
    // Errors never repeat the password.
    let err = passwords
        .verify(&secret("sup3r-s3cret"), "$argon2id$garbage")
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("sup3r"));
}

/// The unknown-user path answers `false` and costs a verification under the current policy.
#[test]
fn unknown_user_is_always_refused() {
    // The dummy path runs argon2id with the policy's parameters and the current pepper, as
    // `hash` does (`Passwords::verify_unknown_user`); its time against a real verification is
    // measured side by side in `benches/password.rs` (`verify_unknown_user`), not here: timed
    // assertions do not belong in unit tests.
    let passwords = Passwords::default().with_pepper(pepper("p", 5)).unwrap();
    let stored = passwords.hash(&secret("pw")).unwrap();
    assert!(passwords.verify(&secret("pw"), &stored).unwrap());
    for guess in ["pw", "guess", ""] {
        assert!(!passwords.verify_unknown_user(&secret(guess)).unwrap());
    }
    assert!(matches!(
        passwords.verify_unknown_user(&secret(&"x".repeat(MAX_PASSWORD_BYTES + 1))),
        Err(PasswordError::TooLong { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any other password is refused (small parameters: the property is about logic).
    #[test]
    fn any_other_password_is_refused(a in ".{0,40}", b in ".{0,40}") {
        prop_assume!(a != b);
        let passwords = small();
        let stored = passwords.hash(&secret(&a)).unwrap();
        prop_assert!(passwords.verify(&secret(&a), &stored).unwrap());
        prop_assert!(!passwords.verify(&secret(&b), &stored).unwrap());
    }

    /// No PHC string panics `verify` or `needs_rehash`.
    #[test]
    fn arbitrary_strings_never_panic(s in "\\$argon2(id|i|d|x)?\\$[ -~]{0,80}") {
        let passwords = small();
        let _ = passwords.verify(&secret("pw"), &s);
        let _ = passwords.needs_rehash(&s);
    }
}
