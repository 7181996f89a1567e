//! Keysets: KEK-protected save and load, tampering, wrong KEKs, downgrades, providers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_pii::{
    Algorithm, Context, EnvKeyProvider, FileKeyProvider, Kek, KeyProvider, KeyPurpose, KeyStatus,
    Keyring, MAX_KEYS, PiiError,
};
use secrecy::ExposeSecret;
use serde_json::Value;

const CTX: Context<'static> = Context::new("t", "leads", "phone", "1");

fn rotated() -> Keyring {
    let mut k = Keyring::generate().unwrap();
    k.add_key(Algorithm::Aes256GcmSiv).unwrap();
    k.rotate().unwrap();
    k.retire(KeyPurpose::Encryption, palisade_pii::KeyId::FIRST)
        .unwrap();
    k.add_index_key().unwrap();
    k
}

#[test]
fn protected_keyset_round_trips() {
    let kek = Kek::generate().unwrap();
    let k = rotated();
    let env = k.encrypt(&CTX, b"+14389007409").unwrap();
    let json = k.to_json(&kek).unwrap();
    let loaded = Keyring::from_json(&json, &kek).unwrap();
    assert_eq!(
        loaded.decrypt(&CTX, &env).unwrap().expose_secret(),
        b"+14389007409"
    );
    let statuses: Vec<_> = loaded
        .keys(KeyPurpose::Encryption)
        .iter()
        .map(|i| (i.id.get(), i.status, i.algorithm))
        .collect();
    assert_eq!(
        statuses,
        [
            (1, KeyStatus::Retired, Some(Algorithm::Aes256Gcm)),
            (2, KeyStatus::Active, Some(Algorithm::Aes256GcmSiv)),
            (3, KeyStatus::Primary, Some(Algorithm::Aes256Gcm)),
        ]
    );
    assert_eq!(loaded.keys(KeyPurpose::Index).len(), 2);
    // Saving again re-wraps under fresh nonces, and still loads.
    let again = loaded.to_json(&kek).unwrap();
    assert_ne!(again, json);
    Keyring::from_json(&again, &kek).unwrap();
    // The protected document holds no raw key material.
    let unprotected = k.to_json_unprotected().unwrap();
    let doc: Value = serde_json::from_str(unprotected.expose_secret()).unwrap();
    let raw = doc["encryption_keys"][0]["material"].as_str().unwrap();
    assert!(!json.contains(raw));
}

#[test]
fn wrong_kek_is_refused() {
    let json = rotated().to_json(&Kek::generate().unwrap()).unwrap();
    assert_eq!(
        Keyring::from_json(&json, &Kek::generate().unwrap()).err(),
        Some(PiiError::KeysetAuthentication)
    );
}

fn tamper(json: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut doc: Value = serde_json::from_str(json).unwrap();
    f(&mut doc);
    doc.to_string()
}

type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn every_tampering_is_refused() {
    let kek = Kek::generate().unwrap();
    let json = rotated().to_json(&kek).unwrap();
    let cases: Vec<(&str, Edit)> = vec![
        (
            "unretire",
            Box::new(|d| d["encryption_keys"][0]["status"] = "active".into()),
        ),
        (
            "promote old",
            Box::new(|d| {
                d["encryption_keys"][0]["status"] = "primary".into();
                d["encryption_keys"][2]["status"] = "active".into();
            }),
        ),
        (
            "drop a key",
            Box::new(|d| {
                d["encryption_keys"].as_array_mut().unwrap().remove(1);
            }),
        ),
        (
            "swap materials",
            Box::new(|d| {
                let a = d["encryption_keys"][1]["material"].clone();
                d["encryption_keys"][1]["material"] = d["encryption_keys"][2]["material"].clone();
                d["encryption_keys"][2]["material"] = a;
            }),
        ),
        (
            "change algorithm",
            Box::new(|d| d["encryption_keys"][2]["algorithm"] = "aes-256-gcm-siv".into()),
        ),
        (
            "move an index key to encryption",
            Box::new(|d| {
                let mut k = d["index_keys"][1].clone();
                k["id"] = 9.into();
                k["algorithm"] = "aes-256-gcm".into();
                d["encryption_keys"].as_array_mut().unwrap().push(k);
            }),
        ),
        ("drop the mac", Box::new(|d| d["mac"] = Value::Null)),
        (
            "renumber",
            Box::new(|d| d["encryption_keys"][1]["id"] = 7.into()),
        ),
    ];
    for (name, f) in cases {
        let bad = tamper(&json, f);
        let err = Keyring::from_json(&bad, &kek).err();
        assert!(
            matches!(
                err,
                Some(PiiError::KeysetAuthentication | PiiError::InvalidKeyset { .. })
            ),
            "{name}: {err:?}"
        );
    }
    // Reordering keys inside a list is harmless.
    let reordered = tamper(&json, |d| {
        d["encryption_keys"].as_array_mut().unwrap().reverse();
    });
    Keyring::from_json(&reordered, &kek).unwrap();
}

#[test]
fn protection_cannot_be_downgraded_or_confused() {
    let kek = Kek::generate().unwrap();
    let k = rotated();
    let dev = k.to_json_unprotected().unwrap();
    assert_eq!(
        Keyring::from_json(dev.expose_secret(), &kek).err(),
        Some(PiiError::ProtectionMismatch {
            expected: "kek",
            found: "none"
        })
    );
    let prod = k.to_json(&kek).unwrap();
    assert_eq!(
        Keyring::from_json_unprotected(&prod).err(),
        Some(PiiError::ProtectionMismatch {
            expected: "none",
            found: "kek"
        })
    );
    let loaded = Keyring::from_json_unprotected(dev.expose_secret()).unwrap();
    let env = k.encrypt(&CTX, b"abc").unwrap();
    assert!(loaded.decrypt(&CTX, &env).is_ok());
}

#[test]
fn malformed_keysets_are_refused() {
    let kek = Kek::generate().unwrap();
    let dev = Keyring::generate().unwrap().to_json_unprotected().unwrap();
    let dev = dev.expose_secret();
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("not json", "{".into()),
        ("array", "[]".into()),
        ("format", tamper(dev, |d| d["format"] = "x".into())),
        ("version", tamper(dev, |d| d["version"] = 2.into())),
        ("unknown field", tamper(dev, |d| d["extra"] = 1.into())),
        (
            "no primary",
            tamper(dev, |d| d["encryption_keys"][0]["status"] = "active".into()),
        ),
        (
            "two primaries",
            tamper(dev, |d| {
                let k = d["encryption_keys"][0].clone();
                let mut k2 = k.clone();
                k2["id"] = 2.into();
                d["encryption_keys"].as_array_mut().unwrap().push(k2);
            }),
        ),
        (
            "duplicate id",
            tamper(dev, |d| {
                let mut k = d["encryption_keys"][0].clone();
                k["status"] = "active".into();
                d["encryption_keys"].as_array_mut().unwrap().push(k);
            }),
        ),
        (
            "id zero",
            tamper(dev, |d| d["encryption_keys"][0]["id"] = 0.into()),
        ),
        (
            "short key",
            tamper(dev, |d| d["encryption_keys"][0]["material"] = "AAAA".into()),
        ),
        (
            "bad status",
            tamper(dev, |d| d["encryption_keys"][0]["status"] = "zombie".into()),
        ),
        (
            "index key with algorithm",
            tamper(dev, |d| {
                d["index_keys"][0]["algorithm"] = "aes-256-gcm".into()
            }),
        ),
        (
            "encryption key without algorithm",
            tamper(dev, |d| {
                d["encryption_keys"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("algorithm");
            }),
        ),
        (
            "no index keys",
            tamper(dev, |d| d["index_keys"] = Value::Array(vec![])),
        ),
    ];
    for (name, json) in cases {
        let err = Keyring::from_json_unprotected(&json).err();
        assert!(
            matches!(err, Some(PiiError::InvalidKeyset { .. })),
            "{name}: {err:?}"
        );
        assert!(Keyring::from_json(&json, &kek).is_err(), "{name}");
    }
}

#[test]
fn keyset_errors_do_not_echo_key_material() {
    let dev = Keyring::generate().unwrap().to_json_unprotected().unwrap();
    let dev = dev.expose_secret();
    let doc: Value = serde_json::from_str(dev).unwrap();
    let material = doc["encryption_keys"][0]["material"].as_str().unwrap();
    // Material pasted into an enum field: serde's message would quote it.
    let bad = tamper(dev, |d| d["encryption_keys"][0]["status"] = material.into());
    let err = Keyring::from_json_unprotected(&bad)
        .unwrap_err()
        .to_string();
    assert!(!err.contains(material), "{err}");
}

#[test]
fn env_and_file_providers() {
    let kek = Kek::generate().unwrap();
    let json = rotated().to_json(&kek).unwrap();

    let var = "PALISADE_PII_TEST_KEK_PROVIDER";
    // Not set: the provider says so (setting it is covered by the CLI tests).
    assert_eq!(EnvKeyProvider::new(var).var(), var);
    let missing = EnvKeyProvider::new(var).key_encryption_key().err();
    assert!(matches!(missing, Some(PiiError::KeyProvider { .. })));

    let dir = std::env::temp_dir().join(format!("palisade-pii-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("kek.txt");
    std::fs::write(&text, format!("{}\n", kek.to_base64().as_str())).unwrap();
    Keyring::from_json(&json, &FileKeyProvider::new(&text)).unwrap();
    let raw = dir.join("kek.bin");
    let bytes = {
        let s = kek.to_base64();
        base64_url_decode(&s)
    };
    std::fs::write(&raw, &bytes).unwrap();
    Keyring::from_json(&json, &FileKeyProvider::new(&raw)).unwrap();
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "not a key").unwrap();
    assert!(matches!(
        FileKeyProvider::new(&bad).key_encryption_key(),
        Err(PiiError::InvalidKek { .. })
    ));
    let err = FileKeyProvider::new(dir.join("absent"))
        .key_encryption_key()
        .unwrap_err();
    assert!(matches!(err, PiiError::KeyProvider { .. }));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    // Enough of RFC 4648 §5 for a test.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// A list of keys may hold `MAX_KEYS` keys, not one more.
#[test]
fn a_keyset_holds_at_most_max_keys_per_list() {
    let dev = Keyring::generate().unwrap().to_json_unprotected().unwrap();
    let with_index_keys = |n: usize| {
        tamper(dev.expose_secret(), |d| {
            let first = d["index_keys"][0].clone();
            let list = d["index_keys"].as_array_mut().unwrap();
            for id in 2..=n {
                let mut k = first.clone();
                k["id"] = id.into();
                k["status"] = "active".into();
                list.push(k);
            }
        })
    };
    assert!(Keyring::from_json_unprotected(&with_index_keys(MAX_KEYS)).is_ok());
    let err = Keyring::from_json_unprotected(&with_index_keys(MAX_KEYS + 1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("too many keys"), "{err}");
}

/// serde's message is kept when what it quotes is short (at most 24 characters: a field
/// or status name), and replaced by a position when it could be key material.
#[test]
fn keyset_errors_quote_short_values_only() {
    let dev = Keyring::generate().unwrap().to_json_unprotected().unwrap();
    let status = |s: &str| {
        let json = tamper(dev.expose_secret(), |d| {
            d["encryption_keys"][0]["status"] = s.into()
        });
        Keyring::from_json_unprotected(&json)
            .unwrap_err()
            .to_string()
    };
    let short = "z".repeat(24);
    assert!(status(&short).contains(&short), "{}", status(&short));
    assert!(status("zombie").contains("`zombie`"));
    let long = "z".repeat(25);
    let err = status(&long);
    assert!(!err.contains(&long), "{err}");
    assert!(err.contains("line 1 column"), "{err}");
}
